"""The ensemble's batched network maths: MLPs over weights stacked as ``(S, out, in)`` (one ``torch.baddbmm``
per layer for every member), the fused critic gradient of a one-hidden-layer ReLU critic written out
analytically (Many Paths to Equilibrium, Fedus et al. 2018, sec. 4's model; the derivation is in
:func:`fused_chunk`)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import grad, vmap

from ..nets import MLP
from ..objectives import Objective
from ..penalties import Penalty


def _mlp_layers(module: nn.Module, prefix: str = "") -> list[tuple[str, str]] | None:
    """(weight, bias) names of an un-normalised :class:`MLP`'s linear layers in order, else None."""
    if not isinstance(module, MLP):
        return None
    names = []
    for i, block in enumerate(module.hidden):
        if len(block) != 2 or not isinstance(block[0], nn.Linear):  # Linear -> activation, no norm
            return None
        names.append((f"hidden.{i}.0.weight", f"hidden.{i}.0.bias"))
    names.append(("out.weight", "out.bias"))
    return names


def _mlp_activation(module: MLP) -> nn.Module:
    return module.hidden[0][1] if len(module.hidden) else nn.Identity()


def _bmm_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], act: nn.Module, x: torch.Tensor,
             out: torch.Tensor | None = None) -> torch.Tensor:
    """Batched MLP: ``x`` ``(S, N, in)`` through stacked layers ``W (S, out, in)``, ``b (S, out)``; the last
    layer writes into ``out`` when given (no grad)."""
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        o = out if i == last else None
        if w.shape[2] == 1:  # one input feature (a 1-D latent): an outer product, faster elementwise
            x = torch.addcmul(b.unsqueeze(1), x, w.transpose(1, 2), out=o)  # (S, N, out)
        else:
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2), out=o)  # (S, N, out)
        if i < last:
            x = act(x)
    return x


def fused_chunk(buf: Callable[[str, tuple[int, ...]], torch.Tensor], objective: Objective, penalty: Penalty | None,
                k: int, x: torch.Tensor, draws: tuple[torch.Tensor, ...], params: list[torch.Tensor],
                lam: torch.Tensor, grads: list[torch.Tensor], loss_out: torch.Tensor,
                pen_out: torch.Tensor | None) -> None:
    """One chunk of members' critic gradients, analytic for a one-hidden-layer ReLU critic
    D(x) = a . relu(W x + c) + e (Fedus sec. 4), written into the views ``grads``, ``loss_out``, ``pen_out``;
    ``x`` ``(S, 2B, d)`` the real|fake rows, ``k`` the chunk size ``buf`` (reused work buffers) is sized for.

    Autograd runs only on the tiny per-member losses (outputs ``(S, 2B)`` and input gradients
    ``(S, B, d)``), so every objective and penalty form stays the library's own; the network part is
    written out. With the pre-activations h = W x + c, the mask m = 1[h > 0] and q = dL/dD(x):

    * loss:    dL/de = sum_b q_b;  dL/dc_j = a_j sum_b q_b m_bj;  dL/dW_jk = a_j D_jk with
               D_jk = sum_b q_b m_bj x_bk;  dL/da_j = sum_b q_b relu(h_bj) = sum_k W_jk D_jk + c_j Dc_j
               (Dc_j = sum_b q_b m_bj, as relu(h) = m h and h is linear in x).
    * penalty: grad_x D(x_hat) = W^T (a * m) (m is piecewise constant: zero derivative, so c gets no
               penalty gradient); with r = dP/d(grad_x D) and M = m^T r ``(H, d)``:
               dP/da_j = sum_k W_jk M_jk,  dP/dW_jk = a_j M_jk.

    So every weight gradient comes from one batched GEMM ``Y = L m`` with ``L = [q x | q ; r | 0]^T``
    ``(S, d + 1, N)`` over the real, fake and penalty rows: Y = [(D + M)^T ; Dc]. For a penalty at
    interpolates (``PenaltyKind.interpolates``: gp, lp) the points are x_hat = eps real + (1 - eps) fake, so
    (h linear in x) their pre-activations are the same interpolation of the real and fake rows' -- no GEMM and
    no x_hat; any other penalty's own points (``Penalty.batched_points``) go through the first layer.
    GEMM orientations are the ones MKL's batched GEMM runs fastest for these tiny per-member shapes (up to 3x apart).

    Every ``(S, N, H)`` tensor is touched by as few elementwise passes as possible: the step is
    memory-bound on a CPU.
    """
    S, n2, d = x.shape
    B = n2 // 2
    w1, c, a_out, e = params  # (S, H, d), (S, H), (S, 1, H), (S, 1)
    H = w1.shape[1]
    a_col = a_out.transpose(1, 2)  # (S, H, 1)
    with_pen = penalty is not None
    n = 3 * B if with_pen else 2 * B
    real, fake = x[:, :B], x[:, B:]
    # pre-activations h = W x + c, then relu in place: real|fake rows, penalty rows apart
    hid = torch.baddbmm(c.unsqueeze(1), x, w1.transpose(1, 2), out=buf("hid", (k, 2 * B, H))[:S])
    mask = buf("mask", (k, n, H))[:S]  # (S, n, H): m = 1[W x + c > 0], rows real|fake|x_hat
    if with_pen:
        if not penalty.kind.interpolates:  # the penalty's own points through the first layer
            x_hat = penalty.batched_points(real, fake, draws)
            h_hat = torch.baddbmm(c.unsqueeze(1), x_hat, w1.transpose(1, 2), out=buf("h_hat", (k, B, H))[:S])
        else:  # h(eps real + (1 - eps) fake) = eps h(real) + (1 - eps) h(fake)
            h_hat = torch.lerp(hid[:, B:], hid[:, :B], draws[0], out=buf("h_hat", (k, B, H))[:S])
        torch.sign(h_hat.clamp_min_(0), out=mask[:, 2 * B:])
    hid.clamp_min_(0)  # relu
    torch.sign(hid, out=mask[:, :2 * B])
    out = torch.bmm(a_out, hid.transpose(1, 2)).squeeze(1).add_(e)  # (S, 2B)
    out.requires_grad_(True)
    loss = vmap(objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
    lhs = buf("lhs", (k, d + 1, n))[:S]  # L = [q x | q ; r | 0]^T
    if with_pen:
        # g^T = (W * a)^T m^T: (S, d, B), g = grad_x D(x_hat) = W^T (a * m)
        wa_t = torch.mul(w1.transpose(1, 2), a_out, out=buf("wa_t", (k, d, H))[:S])  # contiguous
        g_t = torch.bmm(wa_t, mask[:, 2 * B:].transpose(1, 2), out=buf("g", (k, d, B))[:S])
        norms = torch.mul(g_t, g_t, out=buf("g2", (k, d, B))[:S]).sum(1).sqrt_()  # (S, B)
        norms.requires_grad_(True)
        pen = vmap(penalty.from_norms)(norms)  # (S,)
        q, d_norm = torch.autograd.grad((loss + lam * pen).sum(), [out, norms])
        # r = dP/dg = dP/d||g|| * g / ||g||, and 0 where g = 0 (as wgan.penalties.safe_norm defines it)
        scale = torch.where(norms > 0, d_norm / norms.detach().clamp_min(torch.finfo(g_t.dtype).tiny), 0.0)
        torch.mul(g_t, scale.unsqueeze(1), out=lhs[:, :d, 2 * B:])
        lhs[:, d, 2 * B:] = 0
        pen_out.copy_(pen.detach())
    else:
        (q,) = torch.autograd.grad(loss.sum(), [out])
    loss_out.copy_(loss.detach())
    torch.mul(x.transpose(1, 2), q.unsqueeze(1), out=lhs[:, :d, :2 * B])
    lhs[:, d, :2 * B] = q
    y = torch.bmm(lhs, mask)  # (S, d + 1, H): [(D + M)^T ; Dc]
    y_t = y.transpose(1, 2)  # (S, H, d + 1)
    g_w1, g_c, g_a, g_e = grads
    torch.mul(y_t[:, :, :d], a_col, out=g_w1)  # dW = a (D + M)
    torch.mul(y[:, d], a_out.squeeze(1), out=g_c)  # dc = a Dc
    torch.add((w1 * y_t[:, :, :d]).sum(-1), c * y[:, d], out=g_a.squeeze(1))  # da = sum_k W (D + M) + c Dc
    torch.sum(q, 1, keepdim=True, out=g_e)  # de = sum_b q_b


def _fused_chunk_fn(real: torch.Tensor, z: torch.Tensor, g_layers: list[tuple[torch.Tensor, torch.Tensor]],
                    g_act: nn.Module, draws: tuple[torch.Tensor, ...], w1: torch.Tensor,
                    c: torch.Tensor, a_out: torch.Tensor, e: torch.Tensor, lam: torch.Tensor, objective: Objective,
                    penalty: Penalty | None) -> tuple[torch.Tensor, ...]:
    """The generator's fakes and the fused critic gradient of :func:`fused_chunk` as one pure
    function of a chunk of members, for ``torch.compile``: the same formulas, with the loss and penalty
    derivatives by ``torch.func.grad`` of the library's own objective and penalty (so the compiled graph
    holds them too).

    ``real`` ``(S, B, d)``; ``z`` ``(S, B, l)`` and the generator's (detached) stacked layers; ``draws`` the
    penalty's draws stacked over members (:meth:`wgan.penalties.Penalty.batched_draws`). Returns the
    gradients of ``(W, c, a, e)`` and the per-member loss and penalty (``None`` without a penalty).

    A linear generator ``G(z) = z V^T + v`` with an ``l``-dimensional latent (Many Paths Exp. I: l = 1) makes
    the fake rows rank ``l + 1``: their pre-activations are ``z (W V)^T + (W v + c)`` and their part of the
    weight gradient ``sum_b q_b m_b x_b`` is ``V sum_b q_b m_b z_b + v sum_b q_b m_b``, so neither needs the
    ``(B, d)`` fakes (an (l + 1)-row GEMM instead of a (d + 1)-row one; about a third of the work for l = 1)."""
    S, B, d = real.shape
    low_rank = len(g_layers) == 1 and z.shape[-1] < d  # a linear generator: fakes never materialised
    if low_rank:
        v_w, v_b = g_layers[0]  # (S, d, l), (S, d)
        h_real = torch.baddbmm(c.unsqueeze(1), real, w1.transpose(1, 2))  # (S, B, H)
        c_fake = torch.baddbmm(c.unsqueeze(-1), w1, v_b.unsqueeze(-1)).squeeze(-1)  # W v + c: (S, H)
        h_fake = torch.baddbmm(c_fake.unsqueeze(1), z, torch.bmm(w1, v_w).transpose(1, 2))  # (S, B, H)
        hid = torch.cat([h_real, h_fake], 1)  # (S, 2B, H) pre-activations
        x = real  # only the real rows enter the full-width weight-gradient GEMM
    else:
        x = torch.cat([real, _bmm_mlp(g_layers, g_act, z)], 1)  # (S, 2B, d): real | fake rows
        hid = torch.baddbmm(c.unsqueeze(1), x, w1.transpose(1, 2))  # (S, 2B, H) pre-activations
    m = (hid > 0).to(real.dtype)  # ReLU mask
    out = torch.bmm(a_out, hid.clamp_min(0).transpose(1, 2)).squeeze(1) + e  # (S, 2B) critic outputs
    if penalty is None:
        def total(out):
            loss = vmap(objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
            return loss.sum(), loss

        q, loss = grad(total, has_aux=True)(out)  # q = dL/dD(x): (S, 2B)
        pen = None
        qx = q[:, :B] if low_rank else q  # the columns of the rows in x
        lhs = torch.cat([x.transpose(1, 2) * qx.unsqueeze(1), qx.unsqueeze(1)], 1)  # (S, d + 1, 2B or B)
        mask = m[:, :B] if low_rank else m
    else:
        if not penalty.kind.interpolates:  # the penalty's own points through the first layer
            fake = _bmm_mlp(g_layers, g_act, z) if low_rank else x[:, B:]  # unused fakes: dropped by the compiler
            x_hat = penalty.batched_points(real, fake, draws)
            h_hat = torch.baddbmm(c.unsqueeze(1), x_hat, w1.transpose(1, 2))
        else:  # h(eps real + (1 - eps) fake) = eps h(real) + (1 - eps) h(fake)
            h_hat = torch.lerp(hid[:, B:], hid[:, :B], draws[0])
        m_hat = (h_hat > 0).to(real.dtype)  # (S, B, H)
        g_t = torch.bmm(w1.transpose(1, 2) * a_out, m_hat.transpose(1, 2))  # (S, d, B): grad_x D(x_hat)^T
        norms = (g_t * g_t).sum(1).sqrt()  # (S, B)

        def total(out, norms):
            loss = vmap(objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
            pen = vmap(penalty.from_norms)(norms)  # (S,)
            return (loss + lam * pen).sum(), (loss, pen)

        (q, d_norm), (loss, pen) = grad(total, argnums=(0, 1), has_aux=True)(out, norms)
        # r = dP/dg = dP/d||g|| g / ||g||, and 0 where g = 0 (as wgan.penalties.safe_norm defines it)
        scale = torch.where(norms > 0, d_norm / norms.clamp_min(torch.finfo(real.dtype).tiny), 0.0)
        qx = q[:, :B] if low_rank else q  # the columns of the rows in x
        top = torch.cat([x.transpose(1, 2) * qx.unsqueeze(1), g_t * scale.unsqueeze(1)], 2)  # (S, d, 3B or 2B)
        bottom = torch.cat([qx, torch.zeros_like(scale)], 1).unsqueeze(1)  # (S, 1, 3B or 2B)
        lhs = torch.cat([top, bottom], 1)  # L = [q x | q ; r | 0]^T
        mask = torch.cat([m[:, :B] if low_rank else m, m_hat], 1)  # (S, 3B or 2B, H)
    y = torch.bmm(lhs, mask)  # (S, d + 1, H): [(D + M)^T ; Dc]
    if low_rank:  # the fake rows' part: V (sum_b q_b m_b z_b) + v (sum_b q_b m_b), and sum_b q_b m_b for Dc
        q_f, l = q[:, B:2 * B], z.shape[-1]
        y_f = torch.bmm(torch.cat([z.transpose(1, 2) * q_f.unsqueeze(1), q_f.unsqueeze(1)], 1), m[:, B:])  # (S, l+1, H)
        top_f = torch.baddbmm(v_b.unsqueeze(-1) * y_f[:, l:], v_w, y_f[:, :l])  # (S, d, H)
        y = y + torch.cat([top_f, y_f[:, l:]], 1)
    y_t = y.transpose(1, 2)  # (S, H, d + 1)
    g_w1 = y_t[:, :, :d] * a_out.transpose(1, 2)  # dW = a (D + M)
    g_c = y[:, d] * a_out.squeeze(1)  # dc = a Dc
    g_a = ((w1 * y_t[:, :, :d]).sum(-1) + c * y[:, d]).unsqueeze(1)  # da = sum_k W (D + M) + c Dc
    g_e = q.sum(1, keepdim=True)  # de = sum_b q_b
    return g_w1, g_c, g_a, g_e, loss, pen


__all__ = ["fused_chunk"]
