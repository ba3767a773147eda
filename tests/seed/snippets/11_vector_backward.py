import torch as t
from torch.autograd import Variable as V

m = V(t.FloatTensor([2, 3]), requires_grad=True)   
# 注意这里n是向量
n = V(t.zeros(2))
n[0] = m[0] ** 2
n[1] = m[1] ** 3
n.backward(gradient=t.Tensor([1,1]))
print(m.grad)  # tensor([ 4., 27.])
