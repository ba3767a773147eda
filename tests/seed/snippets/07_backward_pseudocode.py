f(a,b,...,z).backward()
a.grad  # a方向上的分量
b.grad  # b方向上的分量
...
z.grad  # z方向上的分量
