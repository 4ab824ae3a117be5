"""Walk a template's Jinja syntax tree with the types of the rendering context.

Used by :mod:`pipeline.documents.template_check`. A value's type is a pydantic model (its fields,
computed fields and properties are its attributes), a dataclass, ``list[X]``, a plain
Python type, or "anything" when the template builds it itself. Loop variables take the
item type of what they loop over; ``loop`` and ``namespace()`` objects are known.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import Environment, nodes
from pydantic import BaseModel

from pipeline.documents.render import model_properties

__all__ = ["ANY", "Checker", "Problem", "Typed", "attributes"]

ANY: Any = object()
"""The type of a value the checker cannot know (it accepts every attribute)."""
_LOOP = ("index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
         "depth0", "cycle", "changed", "previtem", "nextitem")
_SAME_TYPE_FILTERS = {"sort", "reverse", "list", "unique", "select", "reject", "selectattr",
                      "rejectattr", "default", "d", "sum"}
_ITEM_FILTERS = {"first", "last", "random", "min", "max"}


@dataclass(frozen=True)
class Problem:
    """A problem at a line of the rebuilt source (one tag per line)."""

    lineno: int
    message: str


@dataclass(frozen=True)
class Typed:
    """What the checker knows of an expression: its type and how the template wrote it."""

    type: Any
    path: str


class _Loop:
    """Marker type of Jinja's ``loop`` variable."""


class _Namespace:
    """Marker type of a ``namespace()`` object (its attributes are set by the template)."""


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional; Literal is a str; unions of several types are ANY."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else ANY
    if origin is typing.Literal:
        return str
    if origin is list:
        return types.GenericAlias(list, (_unwrap(typing.get_args(annotation)[0]),))
    if origin is not None or annotation is Any:
        return ANY
    return annotation


def attributes(kind: Any) -> Mapping[str, Any] | None:
    """The attributes of a type and their types, or ``None`` when anything goes."""
    if kind is ANY or kind is _Namespace:
        return None
    if kind is _Loop:
        return dict.fromkeys(_LOOP, ANY)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        found = {name: _unwrap(info.annotation) for name, info in kind.model_fields.items()}
        for name, info in kind.model_computed_fields.items():
            found[name] = _unwrap(info.return_type)
        for name in model_properties(kind):
            found[name] = _property_type(kind, name)
        return found
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return {f.name: _unwrap(hints.get(f.name, Any)) for f in dataclasses.fields(kind)}
    if typing.get_origin(kind) is list:
        return {}
    if kind in (str, int, float, bool, Decimal, date):
        return {name: ANY for name in dir(kind) if not name.startswith("_")}
    return None


def _property_type(kind: type, name: str) -> Any:
    prop = getattr(kind, name)
    try:
        return _unwrap(typing.get_type_hints(prop.fget).get("return", Any))
    except (NameError, TypeError):
        return ANY


def _item(kind: Any) -> Any:
    if typing.get_origin(kind) is list:
        return typing.get_args(kind)[0]
    return ANY


def _label(kind: Any) -> str:
    if typing.get_origin(kind) is list:
        return f"a list of {_label(_item(kind))}"
    return getattr(kind, "__name__", "value")


class Checker:
    """Visits a parsed template; :attr:`problems` lists what does not fit the context."""

    def __init__(self, env: Environment, context: Mapping[str, Any]) -> None:
        self.env = env
        self.problems: list[Problem] = []
        self.scopes: list[dict[str, Typed]] = [
            {name: Typed(_unwrap(kind), name) for name, kind in context.items()}]

    # ------------------------------------------------------------ scopes and reports

    def _report(self, node: nodes.Node, message: str) -> None:
        self.problems.append(Problem(node.lineno, message))

    def _lookup(self, name: str) -> Typed | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.env.globals:
            return Typed(ANY, name)
        return None

    def _bind(self, target: nodes.Node, value: Typed) -> None:
        if isinstance(target, nodes.Name):
            self.scopes[-1][target.name] = Typed(value.type, target.name)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self._bind(item, Typed(ANY, value.path))
        elif isinstance(target, nodes.NSRef):
            self._expr(nodes.Name(target.name, "load", lineno=target.lineno))

    # ------------------------------------------------------------ statements

    def visit_template(self, tree: nodes.Template) -> None:
        self._body(tree.body)

    def _body(self, body: list[nodes.Node]) -> None:
        for node in body:
            self._stmt(node)

    def _stmt(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if not isinstance(child, nodes.TemplateData):
                    self._expr(child)
        elif isinstance(node, nodes.If):
            self._expr(node.test)
            self._body(node.body)
            for branch in node.elif_:
                self._stmt(branch)
            self._body(node.else_)
        elif isinstance(node, nodes.For):
            self._for(node)
        elif isinstance(node, nodes.Assign):
            self._bind(node.target, self._expr(node.node))
        elif isinstance(node, nodes.AssignBlock):
            self._body(node.body)
            self._bind(node.target, Typed(str, "block"))
        elif isinstance(node, nodes.With):
            self.scopes.append({})
            for target, value in zip(node.targets, node.values, strict=False):
                self._bind(target, self._expr(value))
            self._body(node.body)
            self.scopes.pop()
        elif isinstance(node, nodes.FilterBlock):
            self._filter_known(node.filter)
            self._body(node.body)
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            self.scopes.append({a.name: Typed(ANY, a.name) for a in node.args})
            self.scopes[-1]["caller"] = Typed(ANY, "caller")
            if isinstance(node, nodes.CallBlock):
                self._expr(node.call)
            else:
                self.scopes[-1][node.name] = Typed(ANY, node.name)
            self._body(node.body)
            self.scopes.pop()
            if isinstance(node, nodes.Macro):
                self.scopes[-1][node.name] = Typed(ANY, node.name)
        elif isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            self._report(node, "a Word template cannot include, import or extend another "
                         "template")
        else:
            for inner in node.iter_child_nodes():
                if isinstance(inner, nodes.Expr):
                    self._expr(inner)
                else:
                    self._stmt(inner)

    def _for(self, node: nodes.For) -> None:
        source = self._expr(node.iter)
        item = Typed(_item(source.type) if source.type is not ANY else ANY, source.path + "[]")
        if typing.get_origin(source.type) is not list and source.type is not ANY:
            self._report(node, f"{source.path} is not a list: it cannot be looped over")
        self.scopes.append({"loop": Typed(_Loop, "loop")})
        self._bind(node.target, item)
        if node.test is not None:
            self._expr(node.test)
        self._body(node.body)
        self.scopes.pop()
        self._body(node.else_)

    # ------------------------------------------------------------ expressions

    def _expr(self, node: nodes.Node) -> Typed:
        if isinstance(node, nodes.Name):
            found = self._lookup(node.name)
            if found is None:
                known = sorted({n for s in self.scopes for n in s})
                self._report(node, f"unknown name '{node.name}'{_hint(node.name, known)}")
                return Typed(ANY, node.name)
            return found
        if isinstance(node, nodes.Const):
            return Typed(type(node.value) if node.value is not None else ANY, repr(node.value))
        if isinstance(node, nodes.Getattr):
            return self._attr(node, self._expr(node.node), node.attr)
        if isinstance(node, nodes.Getitem):
            return self._getitem(node)
        if isinstance(node, nodes.Filter):
            return self._filter(node)
        if isinstance(node, nodes.Test):
            self._expr(node.node)
            if node.name not in self.env.tests:
                self._report(node, f"unknown test 'is {node.name}'")
            self._args(node)
            return Typed(bool, "test")
        if isinstance(node, nodes.Call):
            callee = self._expr(node.node)
            self._args(node)
            if isinstance(node.node, nodes.Name) and node.node.name == "namespace":
                return Typed(_Namespace, "namespace()")
            if isinstance(node.node, nodes.Name) and node.node.name == "range":
                return Typed(list[int], "range()")
            return Typed(ANY, callee.path + "()")
        for child in node.iter_child_nodes():
            self._expr(child)
        return Typed(ANY, type(node).__name__.lower())

    def _args(self, node: nodes.Call | nodes.Filter | nodes.Test) -> None:
        for arg in node.args:
            self._expr(arg)
        for kwarg in node.kwargs:
            self._expr(kwarg.value)
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self._expr(extra)

    def _attr(self, node: nodes.Node, owner: Typed, name: str) -> Typed:
        path = f"{owner.path}.{name}"
        if name.startswith("_"):
            self._report(node, f"'{name}' is forbidden: a template may not reach Python "
                         "internals (names starting with _)")
            return Typed(ANY, path)
        known = attributes(owner.type)
        if known is None:
            return Typed(ANY, path)
        if name not in known:
            what = _label(owner.type)
            self._report(node, f"'{name}' does not exist in {owner.path} ({what})"
                         f"{_hint(name, list(known))}")
            return Typed(ANY, path)
        return Typed(known[name], path)

    def _getitem(self, node: nodes.Getitem) -> Typed:
        owner = self._expr(node.node)
        arg = node.arg
        if isinstance(arg, nodes.Slice):
            for part in (arg.start, arg.stop, arg.step):
                if part is not None:
                    self._expr(part)
            return Typed(owner.type, owner.path + "[:]")
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            return self._attr(node, owner, arg.value)
        self._expr(arg)
        if typing.get_origin(owner.type) is list:
            return Typed(_item(owner.type), owner.path + "[]")
        return Typed(str if owner.type is str else ANY, owner.path + "[]")

    def _filter_known(self, node: nodes.Filter) -> bool:
        if node.name not in self.env.filters:
            self._report(node, f"unknown filter '|{node.name}'"
                         f"{_hint(node.name, list(self.env.filters))}")
            return False
        self._args(node)
        return True

    def _filter(self, node: nodes.Filter) -> Typed:
        value = self._expr(node.node) if node.node is not None else Typed(ANY, "")
        self._filter_known(node)
        path = f"{value.path}|{node.name}"
        if node.name in ("selectattr", "rejectattr", "map", "sort", "groupby") and node.args:
            first = node.args[0]
            if isinstance(first, nodes.Const) and isinstance(first.value, str):
                self._item_attr(node, value, first.value)
        for kwarg in node.kwargs:
            if kwarg.key == "attribute" and isinstance(kwarg.value, nodes.Const):
                self._item_attr(node, value, str(kwarg.value.value))
        if node.name in _SAME_TYPE_FILTERS:
            return Typed(value.type, path)
        if node.name in _ITEM_FILTERS:
            return Typed(_item(value.type), path)
        if node.name in ("batch", "slice"):
            batch = types.GenericAlias(list, (value.type,)) if value.type is not ANY else ANY
            return Typed(batch, path)
        if node.name in ("length", "count", "int", "wordcount"):
            return Typed(int, path)
        if node.name in ("map", "groupby", "dictsort", "items", "attr"):
            return Typed(ANY, path)
        return Typed(str, path)

    def _item_attr(self, node: nodes.Node, value: Typed, dotted: str) -> None:
        item = Typed(_item(value.type) if value.type is not ANY else ANY, value.path + "[]")
        for part in dotted.split("."):
            if not part.isdigit():
                item = self._attr(node, item, part)


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f": did you mean '{close[0]}'?" if close else ""

