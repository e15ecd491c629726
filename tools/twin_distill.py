"""Distillation objective of docs/model.md §10 for the PyTorch twin (tools/torch_twin.py check):

  L = (1 - w) CE + w tau^2 KL(softmax(z_t / tau) || softmax(z_s / tau)) + w_h sum_l MSE(X_t^l, mean_t X_s^l)

The KL term is the mean over the rows with a target (target >= 0), like the cross-entropy; the MSE term is the
mean over real tokens and channels of each block's residual stream, the student's averaged over its T steps.
The teacher is data here: its logits [B*N, V] and residual streams [B*N, D_t] per block, stored in the case file.
A teacher of another width D_t is compared through learned projections P_l [D_t, D] (MSE(X_t^l, P_l mean_t X_s^l)),
stored as /batch/distill_proj/<l>; they are leaves of the autograd graph, named distill.proj.<l>.weight.
"""
import numpy as np
import torch
import torch.nn.functional as F


def read_distill(f):
    """The distillation data of an open case file, or None when the case has none."""
    if "batch/teacher_logits" not in f:
        return None
    hidden = f["batch/teacher_hidden"] if "batch/teacher_hidden" in f else {}
    proj = f["batch/distill_proj"] if "batch/distill_proj" in f else {}
    return dict(weight=float(f.attrs["distill_weight"]), temperature=float(f.attrs["distill_temperature"]),
                hidden_weight=float(f.attrs["distill_hidden_weight"]),
                logits=f["batch/teacher_logits"][()],
                hidden=[hidden[str(l)][()] for l in range(len(hidden))],
                proj=[proj[str(l)][()] for l in range(len(proj))])


def projections(d):
    """name -> leaf tensor (requires grad) of the case's learned projections, in float32 like wtasim's."""
    if "_proj" not in d:
        d["_proj"] = {f"distill.proj.{l}.weight": torch.as_tensor(np.asarray(p), dtype=torch.float32).requires_grad_()
                      for l, p in enumerate(d.get("proj", []))}
    return d["_proj"]


def distill_loss(ce, logits, targets, mask, hidden, d):
    """The combined loss from the task loss ce, the student's logits [B*N, V], targets [B*N], mask [B, N], the
    student's residual streams after each block (list of [T, B, N, D] or, for the ANN twin, [B, N, D]) and d."""
    w, tau, w_h = d["weight"], d["temperature"], d["hidden_weight"]
    valid = targets >= 0
    teacher = torch.as_tensor(np.asarray(d["logits"]), dtype=torch.float64).reshape(logits.shape)
    ls = F.log_softmax(logits.double()[valid] / tau, dim=-1)
    lt = F.log_softmax(teacher[valid] / tau, dim=-1)
    kl = (lt.exp() * (lt - ls)).sum(-1).mean() * tau * tau if bool(valid.any()) else ce * 0.0
    loss = (1 - w) * ce + w * kl
    if w_h > 0:
        real = mask.reshape(-1) > 0
        if len(d["hidden"]) != len(hidden):
            raise ValueError(f"{len(d['hidden'])} teacher residual streams for {len(hidden)} blocks")
        proj = list(projections(d).values())
        for l, (x, xt) in enumerate(zip(hidden, d["hidden"])):
            mean = x.mean(0) if x.dim() == 4 else x
            D = mean.shape[-1]
            u = mean.reshape(-1, D)[real].double()
            if proj:
                u = u @ proj[l].double().t()
            diff = u - torch.as_tensor(np.asarray(xt), dtype=torch.float64)[real]
            loss = loss + w_h * (diff * diff).mean()
    return loss
