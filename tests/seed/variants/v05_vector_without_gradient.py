# A non-scalar output needs the `gradient` argument (behaviour 11).
import torch as t
from torch.autograd import Variable as V

m = V(t.FloatTensor([2, 3]), requires_grad=True)
n = V(t.zeros(2))
n[0] = m[0] ** 2
n[1] = m[1] ** 3
n.backward()
