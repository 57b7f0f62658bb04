#!/usr/bin/python3
"""Exports small PyTorch networks to ONNX with PyTorch's own exporter (Debian's
python3-torch, 1.13), at the opsets mlrun's Go ONNX runtime runs, and writes
to onnx/torch/predictions.json what PyTorch itself computes for the same rows
(float32, in eval mode): the values mlrun's Go runtime must give.

Each network uses operators that gonnx lacks and ops.go adds (GELU's Erf,
LayerNorm taken apart into ReduceMean, Pow and Sqrt, or as
LayerNormalization at opset 17, BatchNormalization, LeakyRelu, Clip, …), or
that gonnx ran wrongly (a Slice whose end is past the axis, x[:, -3:]; a
negative step, x.flip(1)), or convolutional networks' pooling (MaxPool,
AveragePool, Pad, global pools) over a batch of images or signals.

Run from this folder:  /usr/bin/python3 make_torch_onnx.py
"""
import io
import json
import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
WIDTH = 6
rows = torch.randn(7, WIDTH) * 1.5
out = {"torch_version": torch.__version__, "rows": rows.double().tolist(), "models": {}}


class GeluLayerNorm(nn.Module):
    """A transformer's feed-forward block: Linear, GELU, LayerNorm, Linear, softmax."""

    def __init__(self):
        super().__init__()
        self.l1, self.ln, self.l2 = nn.Linear(WIDTH, 16), nn.LayerNorm(16), nn.Linear(16, 3)
        with torch.no_grad():
            self.ln.weight.uniform_(0.5, 1.5)
            self.ln.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        return torch.softmax(self.l2(self.ln(F.gelu(self.l1(x)))), -1)


class BatchNormLeaky(nn.Module):
    """Linear, BatchNorm1d (with running statistics from training), LeakyReLU, Dropout, log-softmax."""

    def __init__(self):
        super().__init__()
        self.l1, self.bn, self.l2 = nn.Linear(WIDTH, 8), nn.BatchNorm1d(8), nn.Linear(8, 4)
        self.drop = nn.Dropout(0.3)
        self.train()
        with torch.no_grad():
            for _ in range(5):
                self.bn(self.l1(torch.randn(32, WIDTH) * 2 + 0.5))
        self.eval()

    def forward(self, x):
        return F.log_softmax(self.l2(self.drop(F.leaky_relu(self.bn(self.l1(x)), 0.1))), -1)


class Activations(nn.Module):
    """Element-wise functions side by side."""

    def forward(self, x):
        a = x.abs()
        return torch.cat([F.elu(x, 0.7), F.selu(x), F.softplus(x), F.softsign(x), F.hardswish(x),
                          F.hardsigmoid(x), F.celu(x, 1.3), x.clamp(-0.5, 0.8), a.sqrt(), x.exp(),
                          (a + 1).log(), (a + 0.1).reciprocal(), a.pow(1.7), x.pow(2), -x,
                          (x * 3).floor(), (x * 3).ceil(), (x * 3).round(), x.sign(), x.erf(),
                          x.tanh(), F.relu6(x)], 1)


class Slicing(nn.Module):
    """Slices past the end, with steps and backwards; transposes."""

    def forward(self, x):
        y = torch.cat([x[:, -3:], x[:, ::2], x[:, 1:-1], x.flip(1), x[:, 4:100]], 1)
        z = y.t().reshape(-1, y.shape[0]).t()
        w = x.reshape(x.shape[0], 2, 3).permute(0, 2, 1).reshape(x.shape[0], -1)
        return torch.cat([z, w], 1)


class Reductions(nn.Module):
    """Reductions over a row, element-wise extremes, a choice, and an argmax (a second, int64 output)."""

    def forward(self, x):
        m = torch.cat([x.mean(1, keepdim=True), x.sum(1, keepdim=True), x.amax(1, keepdim=True),
                       x.amin(1, keepdim=True), x.prod(1, keepdim=True), x.norm(dim=1, keepdim=True),
                       x.var(1, keepdim=True), torch.maximum(x, x.flip(1)), torch.minimum(x, 0.5 * x),
                       torch.where(x > 0, x, 0.25 * x), x - x.max(1, keepdim=True).values,
                       x.logsumexp(1, keepdim=True)], 1)
        return m, x.argmax(1)


class ImageCNN(nn.Module):
    """An image classifier: Conv2d (its BatchNorm2d folded in by the exporter), ReLU, MaxPool2d
    with ceil_mode, a strided Conv2d, AvgPool2d with ceil_mode (its last window half outside), a
    global average pool, Linear."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn, self.c2, self.fc = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Conv2d(4, 6, 3, stride=2), nn.Linear(6, 3)
        self.train()
        with torch.no_grad():
            for _ in range(3):
                self.bn(self.c1(torch.randn(8, 1, 13, 13)))

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2, ceil_mode=True)
        h = F.avg_pool2d(F.relu(self.c2(h)), 2, ceil_mode=True, count_include_pad=False)
        return torch.softmax(self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1)), -1)


class SignalCNN(nn.Module):
    """A 1-D convolution over the row as a signal: Unsqueeze, Conv1d, MaxPool1d with padding and a
    dilation, AvgPool1d with ceil_mode counting the padding (its last window partly past it), a
    global max pool, Linear."""

    def __init__(self):
        super().__init__()
        self.c, self.fc = nn.Conv1d(1, 3, 3, padding=1), nn.Linear(15, 2)

    def forward(self, x):
        h = F.max_pool1d(F.relu(self.c(x.unsqueeze(1))), 2, stride=1, padding=1, dilation=2)
        a = F.avg_pool1d(h, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=True)
        # ceil_mode's last window would start in the padding: dropped (3 windows, not 4).
        c = F.max_pool1d(h[:, :, :5], 2, stride=2, padding=1, ceil_mode=True)
        return self.fc(torch.cat([a.amax(2), F.adaptive_max_pool1d(h, 1).flatten(1), c.flatten(1)], 1))


class GroupedCNN(nn.Module):
    """Grouped and depthwise convolutions, dilated and strided, without a bias too, a global max pool."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3)
        self.c2 = nn.Conv2d(4, 8, 3, groups=2, dilation=2, padding=2)
        self.c3 = nn.Conv2d(8, 8, (3, 2), groups=8, stride=(2, 1), bias=False)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        h = self.c3(F.relu(self.c2(F.relu(self.c1(x)))))
        return self.fc(F.adaptive_max_pool2d(h, 1).flatten(1))


class Embedding(nn.Module):
    """A bag of token ids (int64) through an embedding: Gather, the mean over tokens, Linear."""

    def __init__(self):
        super().__init__()
        self.emb, self.fc = nn.Embedding(20, 8), nn.Linear(8, 3)

    def forward(self, ids):
        return torch.softmax(self.fc(self.emb(ids).mean(1)), -1)


class Transformer(nn.Module):
    """Two layers of nn.TransformerEncoder (GELU, LayerNorm) over the row as a sequence of six tokens,
    with a causal mask (Trilu), the mean over tokens, Linear."""

    def __init__(self):
        super().__init__()
        self.inp, self.out = nn.Linear(1, 8), nn.Linear(8, 3)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True, activation="gelu")
        self.enc = nn.TransformerEncoder(layer, 2)

    def forward(self, x):
        mask = torch.triu(torch.full((x.shape[1], x.shape[1]), float("-inf")), 1)
        return self.out(self.enc(self.inp(x.unsqueeze(-1)), mask=mask).mean(1))


class Upsampling(nn.Module):
    """An image's encoder and decoder: a strided Conv2d, ConvTranspose2d (padded, output_padding,
    grouped), nn.Upsample nearest and bilinear (Resize), PixelShuffle (DepthToSpace)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.up2 = nn.ConvTranspose2d(4, 8, 2, stride=1, dilation=2)

    def forward(self, x):
        h = self.up(F.relu(self.down(x)))
        a = F.interpolate(h, scale_factor=2, mode="nearest")
        b = F.interpolate(h, size=(11, 9), mode="bilinear", align_corners=False)
        c = F.pixel_shuffle(self.up2(h), 2)
        return torch.cat([a.flatten(1), b.flatten(1), c.flatten(1)], 1)


class TwoInputs(nn.Module):
    """Two inputs, a [N, 3] and b [N, 2], joined: Concat, Linear, Tanh."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 2)

    def forward(self, a, b):
        return torch.tanh(self.fc(torch.cat([a, b], 1)))


class Columns(nn.Module):
    """Three 1-D inputs, one value a row each (what MLflow feeds a DataFrame's columns): stacked, Linear."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, a, b, c):
        return self.fc(torch.stack([a, b, c], 1))


def export(name, model, opset, outputs=("y",), x=rows, inputs=None):
    model.eval()
    f = io.BytesIO()
    inputs = inputs or {"x": x}
    torch.onnx.export(model, tuple(v[:2] for v in inputs.values()), f, opset_version=opset, input_names=list(inputs),
                      output_names=list(outputs), dynamic_axes={**{i: {0: "N"} for i in inputs}, **{o: {0: "N"} for o in outputs}})
    mp = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(mp)
    file = "%s_%d.onnx" % (name, opset)
    onnx.save(mp, os.path.join("onnx/torch", file))
    with torch.no_grad():
        res = model(*inputs.values())
    res = res if isinstance(res, tuple) else (res,)
    out["models"][file] = {
        "operators": sorted({n.op_type for n in mp.graph.node}),
        "inputs": {i: {"shape": list(v.shape), "values": v.double().flatten().tolist()} for i, v in inputs.items()},
        "outputs": {o: {"shape": list(r.shape), "values": r.double().flatten().tolist()} for o, r in zip(outputs, res)},
    }


os.makedirs("onnx/torch", exist_ok=True)
for f in os.listdir("onnx/torch"):
    os.remove(os.path.join("onnx/torch", f))
export("gelu_layernorm", GeluLayerNorm(), 13)
export("gelu_layernorm", GeluLayerNorm(), 17)
export("batchnorm_leaky", BatchNormLeaky(), 13)
export("batchnorm_leaky", BatchNormLeaky(), 15)
export("activations", Activations(), 14)
export("activations", Activations(), 16)
export("slicing", Slicing(), 13)
export("slicing", Slicing(), 17)
export("reductions", Reductions(), 13, outputs=("y", "best"))
images = torch.randn(3, 1, 13, 13)
export("image_cnn", ImageCNN(), 13, x=images)
export("image_cnn", ImageCNN(), 17, x=images)
export("signal_cnn", SignalCNN(), 13)
export("grouped_cnn", GroupedCNN(), 15, x=images)
export("embedding", Embedding(), 14, x=torch.randint(0, 20, (4, 5)))
export("transformer", Transformer(), 14)
export("transformer", Transformer(), 17)
export("upsampling", Upsampling(), 13, x=images[:, :, :8, :8].contiguous())
export("upsampling", Upsampling(), 17, x=images[:, :, :8, :8].contiguous())
export("two_inputs", TwoInputs(), 13, inputs={"a": torch.randn(4, 3), "b": torch.randn(4, 2)})
export("columns", Columns(), 13, inputs={"a": torch.randn(5), "b": torch.randn(5), "c": torch.randn(5)})
with open("onnx/torch/predictions.json", "w") as f:
    json.dump(out, f, indent=1)
for name, m in out["models"].items():
    print(name, " ".join(m["operators"]))
