"""`AdaptiveLogSoftmaxWithLoss`: a softmax over many classes, cheap for the frequent ones.

The classes are split by `cutoffs` into a shortlist (the first cutoff) and clusters. The head
scores the shortlist plus one entry per cluster; a class in a cluster has the log-probability of
its cluster (from the head) plus its log-probability inside the cluster, scored by that
cluster's own two-layer projection, whose width shrinks by `div_value` from cluster to cluster.
"""

from __future__ import annotations

import itertools
from collections import namedtuple

import dyngrad
from dyngrad.nn import functional as F
from dyngrad.nn.modules.container import ModuleList, Sequential
from dyngrad.nn.modules.linear import Linear
from dyngrad.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """forward(input, target) gives each target's log-probability (`output`) and the mean
    negative log-likelihood (`loss`); `log_prob` and `predict` score every class."""

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i, (lo, hi) in enumerate(itertools.pairwise(self.cutoffs)):
            hidden = int(in_features // (div_value ** (i + 1)))
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, dtype=dtype),
                                        Linear(hidden, hi - lo, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input_, target_):
        if target_.dim() == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError(
                    "Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {input_.size()}")
        elif target_.dim() == 0:
            if input_.dim() != 1:
                raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        # in_cluster: each row's log-probability inside its cluster (0 for the shortlist);
        # column: the head entry each row reads (its class, or its cluster's entry)
        in_cluster = input.new_zeros(target.size(0))
        column = target.clone()
        covered = 0
        for i, (lo, hi) in enumerate(itertools.pairwise([0] + self.cutoffs)):
            mask = (target >= lo) & (target < hi)
            rows = mask.nonzero().squeeze(1)
            covered += rows.numel()
            if i == 0 or rows.numel() == 0:
                continue
            column[rows] = self.shortlist_size + i - 1
            logprob = F.log_softmax(self.tail[i - 1](input.index_select(0, rows)), dim=1)
            picked = logprob.gather(1, (target[mask] - lo).unsqueeze(1)).squeeze(1)
            in_cluster = in_cluster.index_copy(0, rows, picked)
        if covered != target.size(0):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{target.min().item()}, {target.max().item()}] were found. ")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = in_cluster + head_logprob.gather(1, column.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input, head_output):
        """(N, n_classes) log-probabilities from the input and the head's output."""
        out = input.new_empty((head_output.size(0), self.n_classes))
        head_logprob = F.log_softmax(head_output, dim=1)
        out[:, :self.shortlist_size] = head_logprob[:, :self.shortlist_size]
        for i, (lo, hi) in enumerate(itertools.pairwise(self.cutoffs)):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            out[:, lo:hi] = cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1)
        return out

    def log_prob(self, input):
        """Log-probabilities of every class, (N, in_features) -> (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most probable class of each row (the full distribution is only computed for
        rows whose best head entry is a cluster)."""
        head_output = self.head(input)
        output = dyngrad.argmax(head_output, dim=1)
        outside = output >= self.shortlist_size
        if not outside.any():
            return output
        if outside.all():
            return dyngrad.argmax(self._get_full_log_prob(input, head_output), dim=1)
        log_prob = self._get_full_log_prob(input[outside], head_output[outside])
        output[outside] = dyngrad.argmax(log_prob, dim=1)
        return output
