# A copy of ../shared/bench/pytorch_reference.py with one addition, --arch project (used by
# tools/bench/src/encoders.bench.ts so every ratio compares the same architecture):
#   transformer: the PatchTST/pre-LN/final-norm/output-projection model at ANY --patch, 1 included
#     (the project has no post-LN variant: its unpatched reference is this model with P = 1);
#   cnn: the project's CNN encoder without attention: the three stacked dilated convs' outputs
#     concatenated, a ReLU mix Linear(3*64 -> 64), mean over time, an output Linear(64 -> 64).
# --arch plain (default) is the shared script unchanged.
# Usage: /usr/bin/python3 pytorch_reference.py --model transformer|cnn [--patch P] [--arch plain|project] [--threads 2] [--train 10] [--infer 500] [--out f.json]
# --patch P: PatchTST-style tokens (P consecutive steps -> one token, T/P tokens), pre-LN layers with a
# final norm and output projection, as the project's default transformer preset. 1 = the plain reference.
import argparse, json, math, resource, statistics, time, sys
import torch, torch.nn as nn, torch.nn.functional as Fn

ap = argparse.ArgumentParser()
ap.add_argument('--model', default='transformer'); ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--train', type=int, default=10); ap.add_argument('--infer', type=int, default=500)
ap.add_argument('--pertask', type=int, default=5); ap.add_argument('--out')
ap.add_argument('--patch', type=int, default=1)
ap.add_argument('--arch', default='plain', choices=['plain', 'project'])
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
B, T, F, D, H, FF, L, HH = 64, 96, 32, 64, 4, 128, 2, 32
HEADS = [('direction', 3, 'ce'), ('volatility', 1, 'mse'), ('regime', 4, 'ce'), ('return', 1, 'mse')]

class PosEnc(nn.Module):
    def __init__(s):
        super().__init__()
        pe = torch.zeros(T, D); pos = torch.arange(T).float()[:, None]
        div = torch.exp(torch.arange(0, D, 2).float() * (-math.log(10000.0) / D))
        pe[:, 0::2] = torch.sin(pos * div); pe[:, 1::2] = torch.cos(pos * div)
        s.register_buffer('pe', pe)
    def forward(s, x): return x + s.pe

class TransformerEnc(nn.Module):
    def __init__(s):
        super().__init__()
        s.proj = nn.Linear(F, D); s.pe = PosEnc()
        layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation='relu', batch_first=True)
        s.enc = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
    def forward(s, x): return s.enc(s.pe(s.proj(x))).mean(1)

class PatchTransformerEnc(nn.Module):
    def __init__(s, P):
        super().__init__()
        s.P = P; s.N = (T + P - 1) // P
        s.proj = nn.Linear(P * F, D)
        pe = torch.zeros(s.N, D); pos = torch.arange(s.N).float()[:, None]
        div = torch.exp(torch.arange(0, D, 2).float() * (-math.log(10000.0) / D))
        pe[:, 0::2] = torch.sin(pos * div); pe[:, 1::2] = torch.cos(pos * div)
        s.register_buffer('pe', pe)
        layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation='relu', batch_first=True, norm_first=True)
        s.enc = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
        s.norm = nn.LayerNorm(D); s.out = nn.Linear(D, D)
    def forward(s, x):
        b = x.shape[0]; pad = s.N * s.P - T
        if pad: x = Fn.pad(x, (0, 0, pad, 0))
        h = s.proj(x.reshape(b, s.N, s.P * F)) + s.pe
        return s.out(s.norm(s.enc(h)).mean(1))

class CNNEnc(nn.Module):
    def __init__(s):
        super().__init__()
        chans = [F, 64, 64, 64]
        s.convs = nn.ModuleList([nn.Conv1d(chans[i], chans[i + 1], 3, dilation=d, padding=d) for i, d in enumerate([1, 2, 4])])
    def forward(s, x):
        h = x.transpose(1, 2)
        for c in s.convs: h = torch.relu(c(h))
        return h.mean(2)

class ProjectCNNEnc(nn.Module):
    def __init__(s):
        super().__init__()
        chans = [F, 64, 64, 64]
        s.convs = nn.ModuleList([nn.Conv1d(chans[i], chans[i + 1], 3, dilation=d, padding=d) for i, d in enumerate([1, 2, 4])])
        s.mix = nn.Linear(3 * 64, D); s.out = nn.Linear(D, D)
    def forward(s, x):
        h = x.transpose(1, 2); scales = []
        for c in s.convs:
            h = torch.relu(c(h)); scales.append(h)
        z = torch.relu(s.mix(torch.cat(scales, 1).transpose(1, 2)))
        return s.out(z.mean(1))

class Net(nn.Module):
    def __init__(s, kind):
        super().__init__()
        project = a.arch == 'project'
        if kind == 'transformer': s.encoder = PatchTransformerEnc(a.patch) if (a.patch > 1 or project) else TransformerEnc()
        else: s.encoder = ProjectCNNEnc() if project else CNNEnc()
        s.heads = nn.ModuleList([nn.Sequential(nn.Linear(D, HH), nn.ReLU(), nn.Linear(HH, o)) for _, o, _ in HEADS])
    def forward(s, x):
        z = s.encoder(x); return z, [h(z) for h in s.heads]

def head_loss(k, out, ys):
    return Fn.cross_entropy(out, ys[k]) if HEADS[k][2] == 'ce' else Fn.mse_loss(out, ys[k])

def pct(v, p):
    s = sorted(v); return s[min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1)]

net = Net(a.model)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.randn(B, T, F)
ys = [torch.randint(0, o, (B,)) if k == 'ce' else torch.randn(B, 1) for _, o, k in HEADS]
enc_params = list(net.encoder.parameters())
res = dict(backend='pytorch-cpu', model=a.model, patch=a.patch, arch=a.arch, torch=torch.__version__, threads=torch.get_num_threads(),
           nParams=sum(p.numel() for p in net.parameters()))

def step():
    opt.zero_grad(set_to_none=True)
    _, outs = net(x)
    loss = sum(head_loss(k, o, ys) for k, o in enumerate(outs))
    loss.backward(); opt.step(); return loss.item()

l0 = step(); step()
ts = []
for _ in range(a.train):
    t = time.perf_counter(); ll = step(); ts.append((time.perf_counter() - t) * 1000)
res['trainStepMs'] = dict(median=statistics.median(ts), min=min(ts), max=max(ts), n=len(ts))
res['trainSamplesPerSec'] = B / (statistics.median(ts) / 1000)
res['loss'] = dict(first=l0, last=ll)
print('train', res['trainStepMs'], res['trainSamplesPerSec'], file=sys.stderr)

def combined():
    _, outs = net(x)
    loss = sum(head_loss(k, o, ys) for k, o in enumerate(outs))
    return torch.autograd.grad(loss, list(net.parameters()))
def per_task_retain():  # one forward, 4 backward passes (retain_graph)
    _, outs = net(x)
    return [torch.autograd.grad(head_loss(k, o, ys), enc_params, retain_graph=True) for k, o in enumerate(outs)]
def per_task_naive():   # 4 forwards + 4 backwards (what tfjs has to do)
    r = []
    for k in range(4):
        z = net.encoder(x); r.append(torch.autograd.grad(head_loss(k, net.heads[k](z), ys), enc_params))
    return r
combined(); per_task_retain(); per_task_naive()
tc, tr, tn = [], [], []
for _ in range(a.pertask):
    t = time.perf_counter(); combined(); tc.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter(); per_task_retain(); tr.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter(); per_task_naive(); tn.append((time.perf_counter() - t) * 1000)
res['combinedGradMs'] = statistics.median(tc)
res['perTask4GradMs'] = statistics.median(tn); res['perTaskRatio'] = statistics.median(tn) / statistics.median(tc)
res['perTask4RetainGraphMs'] = statistics.median(tr); res['perTaskRetainRatio'] = statistics.median(tr) / statistics.median(tc)
print('pertask', res['combinedGradMs'], res['perTask4GradMs'], res['perTask4RetainGraphMs'], file=sys.stderr)

net.eval()
x1 = torch.randn(1, T, F); x256 = torch.randn(256, T, F)
def predict(xx):
    z, outs = net(xx)
    return torch.cat([torch.softmax(o, 1) if HEADS[k][2] == 'ce' else o for k, o in enumerate(outs)], 1).numpy()
with torch.inference_mode():
    for _ in range(50): predict(x1)
    ti = []
    for _ in range(a.infer):
        t = time.perf_counter(); predict(x1); ti.append((time.perf_counter() - t) * 1000)
    res['infer1'] = dict(medianMs=statistics.median(ti), p99Ms=pct(ti, 99), meanMs=sum(ti) / len(ti), n=len(ti))
    predict(x256); tb = []
    for _ in range(5):
        t = time.perf_counter(); predict(x256); tb.append((time.perf_counter() - t) * 1000)
    res['infer256'] = dict(medianMs=statistics.median(tb), samplesPerSec=256 / (statistics.median(tb) / 1000))
res['peakRssMB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(res))
if a.out: json.dump(res, open(a.out, 'w'), indent=1)
