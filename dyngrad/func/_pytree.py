"""Pytrees: nested tuples, lists, dicts and namedtuples of leaves, as `torch.utils._pytree` sees
them. The transforms flatten their inputs and outputs with these, so `in_dims`, `argnums` and
cotangents follow PyTorch's structure rules, and errors print PyTorch's `TreeSpec(...)` text.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque, namedtuple

from dyngrad._size import Size


def _is_namedtuple(cls) -> bool:
    return (issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)
            and callable(getattr(cls, "_make", None)))


def _node_type(tree):
    """The registered node type of `tree` (`namedtuple` for every namedtuple class), or None."""
    cls = type(tree)
    if cls in _NODES:
        return cls
    if _is_namedtuple(cls):
        return namedtuple
    return None


def _children(tree, kind) -> tuple[list, object]:
    """(children, context) of a node."""
    if kind is dict or kind is OrderedDict:
        keys = list(tree)
        return [tree[k] for k in keys], keys
    if kind is defaultdict:
        keys = list(tree)
        return [tree[k] for k in keys], [tree.default_factory, keys]
    if kind is namedtuple:
        return list(tree), type(tree)
    return list(tree), None


def _rebuild(kind, context, children: list):
    if kind is dict or kind is OrderedDict:
        return kind(zip(context, children, strict=True))
    if kind is defaultdict:
        return defaultdict(context[0], zip(context[1], children, strict=True))
    if kind is namedtuple:
        return context(*children)
    if kind is Size:
        return Size(children)
    return kind(children)


_NODES = {tuple, list, dict, OrderedDict, defaultdict, deque, Size}


class TreeSpec:
    """The structure of a pytree: node type, context (dict keys, namedtuple class), children."""

    __slots__ = ("type", "context", "children", "num_leaves")

    def __init__(self, kind, context, children: list):
        self.type = kind
        self.context = context
        self.children = children
        self.num_leaves = sum(c.num_leaves for c in children)

    def __eq__(self, other) -> bool:
        return (isinstance(other, TreeSpec) and not isinstance(other, LeafSpec)
                and self.type is other.type and self.context == other.context
                and self.children == other.children)

    __hash__ = None

    def __repr__(self, indent: int = 0) -> str:
        name = self.type.__name__
        parts = ""
        if self.children:
            indent += 2
            parts = self.children[0].__repr__(indent)
            parts += "," if len(self.children) > 1 else ""
            parts += ",".join("\n" + " " * indent + c.__repr__(indent)
                              for c in self.children[1:])
        return f"TreeSpec({name}, {self.context}, [{parts}])"


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves = 1

    def __eq__(self, other) -> bool:
        return isinstance(other, LeafSpec)

    __hash__ = None

    def __repr__(self, indent: int = 0) -> str:
        return "*"


_LEAF = LeafSpec()


def tree_flatten(tree) -> tuple[list, TreeSpec]:
    """(leaves in order, structure)."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves: list) -> TreeSpec:
    kind = _node_type(tree)
    if kind is None:
        leaves.append(tree)
        return _LEAF
    children, context = _children(tree, kind)
    return TreeSpec(kind, context, [_flatten(c, leaves) for c in children])


def tree_unflatten(leaves, spec: TreeSpec):
    """The pytree of structure `spec` with `leaves` in flattening order."""
    it = iter(leaves)
    out = _unflatten(it, spec)
    return out


def _unflatten(it, spec: TreeSpec):
    if isinstance(spec, LeafSpec):
        return next(it)
    return _rebuild(spec.type, spec.context, [_unflatten(it, c) for c in spec.children])


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_to_and_flatten(prefix, spec: TreeSpec) -> list | None:
    """`prefix` (e.g. `in_dims`) repeated over the leaves of `spec` it covers, or None when its
    structure is not a prefix of `spec`."""
    out: list = []
    return out if _broadcast(prefix, spec, out) else None


def _broadcast(prefix, spec: TreeSpec, out: list) -> bool:
    kind = _node_type(prefix)
    if kind is None:
        out.extend([prefix] * spec.num_leaves)
        return True
    if isinstance(spec, LeafSpec) or kind is not spec.type:
        return False
    children, context = _children(prefix, kind)
    if context != spec.context or len(children) != len(spec.children):
        return False
    return all(_broadcast(c, s, out) for c, s in zip(children, spec.children, strict=True))


def treespec_pprint(spec: TreeSpec) -> str:
    """The structure drawn with `*` for leaves: `(*, [*])`."""
    return repr(tree_unflatten([_Star()] * spec.num_leaves, spec))


class _Star:
    def __repr__(self) -> str:
        return "*"
