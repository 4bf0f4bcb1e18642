"""The seed lecture's backprop example: verbatim, then on glassnet Tensors."""

from __future__ import annotations

from glassnet import Tensor
from glassnet.autograd import Function


# --- the seed's cells In [5], In [6] and In [8], verbatim ------------------------
class Multiply:
    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dLdz):
        dzdx = self.y
        dLdx = dLdz * dzdx

        dzdy = self.x
        dLdy = dLdz * dzdy
        return [dLdx, dLdy]


class Add:
    def forward(self, x, y):
        self.x = x
        self.y = y
        return x + y

    def backward(self, dLdz):
        dzdy = 1
        dzdx = 1
        return [dLdz * dzdy, dLdz * dzdx]


def f_with_gradients(x, y, z):
    # create our operators
    q = Add()
    f = Multiply()

    # feed inputs into the summer first, then do multiplication
    # this builds our computational graph
    q_out = q.forward(x, y)
    f_out = f.forward(q_out, z)

    # this one is somehow weird ... but hey.
    # step backwards through our graph to compute the gradients
    grad_f = f.backward(1.0)
    grad_q = q.backward(grad_f[0])

    # sort our gradients so we have [df/dx, df/dy, df/dz]
    gradients = [grad_q[0], grad_q[1], grad_f[1]]
    return f_out, gradients


class F:
    def forward(self, x, y, z):
        self.q = Add()
        self.f = Multiply()

        self.q_out = self.q.forward(x, y)
        self.f_out = self.f.forward(self.q_out, z)
        return self.f_out

    def backward(self, dfdz):
        grad_f = self.f.backward(dfdz)
        grad_q = self.q.backward(grad_f[0])

        return [grad_q[0], grad_q[1], grad_f[1]]


# --- the seed's outputs -----------------------------------------------------------
def test_seed_f_with_gradients():
    assert f_with_gradients(-2, 5, -4) == (-12, [-4.0, -4.0, 3.0])


def test_seed_f_module():
    f = F()
    assert f.forward(-2, 5, -4) == -12
    assert f.backward(1) == [-4, -4, 3]


# --- the same function on the engine ----------------------------------------------
def _leaves():
    return [Tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0)]


def test_same_values_with_glassnet_operators():
    x, y, z = _leaves()
    f = (x + y) * z
    f.backward()
    assert f.item() == -12
    assert [x.grad.item(), y.grad.item(), z.grad.item()] == [-4, -4, 3]


class GlassMultiply(Multiply, Function):
    """The seed's Multiply, unchanged, made a glassnet Function by inheritance."""


class GlassAdd(Add, Function):
    """The seed's Add, unchanged, made a glassnet Function by inheritance."""


def test_same_values_with_the_seed_modules_as_functions():
    x, y, z = _leaves()
    f = GlassMultiply.apply(GlassAdd.apply(x, y), z)
    f.backward()
    assert f.item() == -12
    assert [x.grad.item(), y.grad.item(), z.grad.item()] == [-4, -4, 3]
