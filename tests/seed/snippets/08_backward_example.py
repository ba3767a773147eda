import torch as t
from torch.autograd import Variable as v

# a是创建变量
a = v(t.FloatTensor([2, 3]), requires_grad=True) 
#b c out是结果变量
b = a + 3
c = b * b * 3
out = c.mean() # 等价于累加再除以c的数目，是标量
out.backward(retain_graph=True) 
# 这里可以不带参数，默认值为‘1’，由于下面我们还要求导，故加上retain_graph=True选项

print(a.grad) # tensor([15., 18.])

