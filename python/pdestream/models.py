"""PyTorch twins of pdestream's model families (surrogates/*.cpp).

Each class mirrors its C++ module op for op (the same torch calls in the same order, so a
forward pass rounds as libtorch's does) and registers its submodules and parameters under
the names the C++ modules give them, which are the keys of `model.safetensors`. Every class
has `options_json()` (what pdestream stores as the "model" metadata) and `build_model()`
rebuilds a module from such options.

Tensor conventions as in surrogates/surrogate.hpp: field models take [B, C_in, *spatial]
and return [B, C_out, *spatial]; vector models [B, F] (or points [B, F, M]); `cond` is the
task's conditioning vector [B, P] (already transformed; see PdestreamModel for raw values).
"""

import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

MODEL_NAMES = ["cape", "deeponet", "fno", "mlp", "pde_refiner", "unet", "unet_modern"]
FIELD_MODELS = {"cape", "fno", "pde_refiner", "unet", "unet_modern"}

_MASK64 = (1 << 64) - 1


def splitmix64(x):
    """core/random.hpp's seed mixer, on Python ints (uint64 arithmetic)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _conv(dim, *args, **kwargs):
    return (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dim - 1](*args, **kwargs)


def _check_cond(kind, cond, batch, cond_dim):
    if cond_dim == 0:
        if cond is not None:
            raise ValueError(f"{kind}: this model takes no conditioning vector, got {tuple(cond.shape)}")
        return
    if cond is None or cond.dim() != 2 or cond.shape[0] != batch or cond.shape[1] != cond_dim:
        got = None if cond is None else tuple(cond.shape)
        raise ValueError(f"{kind}: expected cond [{batch}, {cond_dim}], got {got}")


def _cond_as_channels(cond, spatial):
    view = [cond.shape[0], cond.shape[1]] + [1] * len(spatial)
    return cond.view(view).expand([cond.shape[0], cond.shape[1]] + list(spatial))


def _activation(name):
    return {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}[name]()


def _apply_activation(name, x):
    return {"relu": torch.relu, "gelu": F.gelu, "tanh": torch.tanh, "silu": F.silu}[name](x)


# --------------------------------------------------------------------------------------- FNO

class SpectralConv(nn.Module):
    """rfftn -> keep the low-frequency corners (weights1..2^(d-1)) -> irfftn.

    Weights are real [in, out, *modes, 2] (pdestream keeps them real because libtorch 1.13's
    Adam mishandles complex parameters); forward views them as complex.
    """

    def __init__(self, dim, in_channels, out_channels, modes):
        super().__init__()
        self.dim, self.in_channels, self.out_channels = dim, in_channels, out_channels
        self.modes = list(modes)
        scale = 1.0 / (in_channels * out_channels)
        shape = [in_channels, out_channels] + self.modes + [2]
        for c in range(1 << (dim - 1)):
            self.register_parameter(f"weights{c + 1}", nn.Parameter(scale * torch.rand(shape)))

    def forward(self, x):
        dims = list(range(2, 2 + self.dim))
        sizes = list(x.shape[2:])
        x_ft = torch.fft.rfftn(x, dim=dims)
        out_shape = list(x_ft.shape)
        out_shape[1] = self.out_channels
        out_ft = torch.zeros(out_shape, dtype=x_ft.dtype, device=x_ft.device)
        equation = {1: "bix,iox->box", 2: "bixy,ioxy->boxy", 3: "bixyz,ioxyz->boxyz"}[self.dim]
        for c in range(1 << (self.dim - 1)):
            index = [slice(None), slice(None)]
            for a in range(self.dim):
                # rfftn's last axis holds non-negative frequencies only: always the low end.
                high = a < self.dim - 1 and ((c >> a) & 1)
                m = self.modes[a]
                index.append(slice(-m, None) if high else slice(None, m))
            index = tuple(index)
            w = torch.view_as_complex(getattr(self, f"weights{c + 1}"))
            out_ft[index] = torch.einsum(equation, x_ft[index], w)
        return torch.fft.irfftn(out_ft, s=sizes, dim=dims)


class FNO(nn.Module):
    kind, layout = "fno", "field"

    def __init__(self, dim=1, in_channels=1, out_channels=1, width=None, modes=None, layers=4,
                 projection=128, grid=True, padding=0, cond_dim=0):
        super().__init__()
        width = width if width is not None else (64, 32, 20)[dim - 1]
        modes = modes if modes is not None else (16, 12, 8)[dim - 1]
        modes = [modes] * dim if isinstance(modes, int) else list(modes)
        if len(modes) == 1:
            modes = modes * dim
        self.opts = dict(dim=dim, in_channels=in_channels, out_channels=out_channels, width=width,
                         modes=modes, layers=layers, projection=projection, grid=bool(grid),
                         padding=padding, cond_dim=cond_dim)
        lift = in_channels + cond_dim + (dim if grid else 0)
        # Registration order follows the reference's __init__ (and pdestream's).
        self.fc0 = nn.Linear(lift, width)
        for k in range(layers):
            self.add_module(f"conv{k}", SpectralConv(dim, width, width, modes))
        for k in range(layers):
            self.add_module(f"w{k}", _conv(dim, width, width, 1))
        self.fc1 = nn.Linear(width, projection)
        self.fc2 = nn.Linear(projection, out_channels)

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = OrderedDict(name="fno")
        o.update(self.opts)
        return o

    def forward(self, x, cond=None):
        o = self.opts
        d = o["dim"]
        spatial = list(x.shape[2:])
        _check_cond("fno", cond, x.shape[0], o["cond_dim"])
        if cond is not None:
            x = torch.cat([x, _cond_as_channels(cond, spatial)], 1)
        if o["grid"]:
            channels = [x]
            for a in range(d):
                view = [1] * (d + 2)
                view[2 + a] = spatial[a]
                grid = torch.linspace(0.0, 1.0, spatial[a], dtype=x.dtype, device=x.device)
                channels.append(grid.view(view).expand([x.shape[0], 1] + spatial))
            x = torch.cat(channels, 1)
        last = [0] + list(range(2, d + 2)) + [1]
        first = [0, d + 1] + list(range(1, d + 1))
        x = self.fc0(x.permute(last)).permute(first)
        if o["padding"] > 0:
            x = F.pad(x, [0, o["padding"]] * d)
        layers = o["layers"]
        for k in range(layers):
            x = getattr(self, f"conv{k}")(x) + getattr(self, f"w{k}")(x)
            if k + 1 < layers:
                x = F.gelu(x)
        if o["padding"] > 0:
            for a in range(d):
                x = x.narrow(2 + a, 0, spatial[a])
        x = self.fc1(x.permute(last))
        x = self.fc2(F.gelu(x))
        return x.permute(first).contiguous()


# --------------------------------------------------------------------------------------- MLP

class MLP(nn.Module):
    kind, layout = "mlp", "vector"

    def __init__(self, in_channels=1, out_channels=1, hidden=(256, 256), activation="relu", cond_dim=0):
        super().__init__()
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        self.opts = dict(in_channels=in_channels, out_channels=out_channels, hidden=hidden,
                         activation=activation, cond_dim=cond_dim)
        layers, n = [], in_channels + cond_dim
        for h in hidden:
            layers += [nn.Linear(n, h), _activation(activation)]
            n = h
        layers.append(nn.Linear(n, out_channels))
        self.layers = nn.Sequential(*layers)

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = self.opts
        return OrderedDict(name="mlp", in_channels=o["in_channels"], out_channels=o["out_channels"],
                           hidden=o["hidden"], activation=o["activation"], cond_dim=o["cond_dim"])

    def forward(self, x, cond=None):
        _check_cond("mlp", cond, x.shape[0], self.opts["cond_dim"])
        if x.dim() == 2:
            return self.layers(torch.cat([x, cond], 1) if cond is not None else x)
        points = x.transpose(1, 2)
        if cond is not None:
            points = torch.cat([points, cond.unsqueeze(1).expand(-1, x.shape[2], -1)], 2)
        return self.layers(points).transpose(1, 2).contiguous()


# -------------------------------------------------------------------------------------- U-Net

class UnetBlock(nn.Module):
    def __init__(self, dim, cin, cout, norm, activation, cond_dim):
        super().__init__()
        self.dim, self.cout, self.activation = dim, cout, activation
        self.conv1 = _conv(dim, cin, cout, 3, padding=1)
        self.norm1 = nn.GroupNorm(math.gcd(cout, 8), cout) if norm else None
        self.film = nn.Linear(cond_dim, 2 * cout) if cond_dim > 0 else None
        self.conv2 = _conv(dim, cout, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(math.gcd(cout, 8), cout) if norm else None

    def forward(self, x, cond):
        h = self.conv1(x)
        if self.norm1 is not None:
            h = self.norm1(h)
        if self.film is not None:
            scale, shift = self.film(cond).chunk(2, 1)
            view = [h.shape[0], self.cout] + [1] * self.dim
            h = h * (1 + scale.view(view)) + shift.view(view)
        h = _apply_activation(self.activation, h)
        h = self.conv2(h)
        if self.norm2 is not None:
            h = self.norm2(h)
        return _apply_activation(self.activation, h)


class UnetUp(nn.Module):
    def __init__(self, dim, cin, norm, activation, cond_dim):
        super().__init__()
        self.up = (nn.ConvTranspose1d, nn.ConvTranspose2d)[dim - 1](cin, cin // 2, 2, stride=2)
        self.block = UnetBlock(dim, cin, cin // 2, norm, activation, cond_dim)

    def forward(self, x, skip, cond):
        return self.block(torch.cat([self.up(x), skip], 1), cond)


class UNet(nn.Module):
    kind, layout = "unet", "field"

    def __init__(self, dim=2, in_channels=1, out_channels=1, width=32, levels=3, norm=True,
                 activation="gelu", cond_dim=0):
        super().__init__()
        self.opts = dict(dim=dim, in_channels=in_channels, out_channels=out_channels, width=width,
                         levels=levels, norm=bool(norm), activation=activation, cond_dim=cond_dim)
        self.inc = UnetBlock(dim, in_channels, width, norm, activation, cond_dim)
        self.down, self.up = nn.ModuleList(), nn.ModuleList()
        c = width
        for _ in range(levels):
            self.down.append(UnetBlock(dim, c, 2 * c, norm, activation, cond_dim))
            c *= 2
        for _ in range(levels):
            self.up.append(UnetUp(dim, c, norm, activation, cond_dim))
            c //= 2
        self.outc = _conv(dim, width, out_channels, 1)

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = OrderedDict(name="unet")
        o.update(self.opts)
        return o

    def forward(self, x, cond=None):
        o = self.opts
        d = o["dim"]
        _check_cond("unet", cond, x.shape[0], o["cond_dim"])
        spatial = list(x.shape[2:])
        multiple = 1 << o["levels"]
        pad, padded = [], False
        for a in range(d - 1, -1, -1):  # F.pad lists the last axis first
            extra = (multiple - spatial[a] % multiple) % multiple
            pad += [0, extra]
            padded = padded or extra > 0
        if padded:
            x = F.pad(x, pad, mode="replicate")
        x = self.inc(x, cond)
        skips = [x]
        pool = F.max_pool1d if d == 1 else F.max_pool2d
        for block in self.down:
            x = block(pool(x, 2) if d == 1 else pool(x, [2, 2]), cond)
            skips.append(x)
        skips.pop()
        for up in self.up:
            x = up(x, skips.pop(), cond)
        x = self.outc(x)
        if padded:
            for a in range(d):
                x = x.narrow(2 + a, 0, spatial[a])
        return x.contiguous()


# ------------------------------------------------------------------------- U-Net (modern)

def fourier_embedding(t, dim, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.to(torch.float32).view(-1, 1) * freqs.view(1, -1)
    return torch.cat([torch.cos(args), torch.sin(args)], 1)


def _modern_conv(dim, cin, cout, k, stride, padding):
    mode = "circular" if padding == "circular" else "zeros"
    return _conv(dim, cin, cout, k, stride=stride, padding=k // 2, padding_mode=mode)


def _embedding_mlp(cin, cout):
    return nn.Sequential(nn.Linear(cin, cout), nn.GELU(), nn.Linear(cout, cout))


class ModernResidualBlock(nn.Module):
    def __init__(self, dim, cin, cout, emb_dim, norm, padding):
        super().__init__()
        self.dim = dim
        self.conv1 = _modern_conv(dim, cin, cout, 3, 1, padding)
        self.conv2 = _modern_conv(dim, cout, cout, 3, 1, padding)
        with torch.no_grad():  # the block starts as its shortcut
            for p in self.conv2.parameters():
                p.zero_()
        self.norm1 = nn.GroupNorm(1, cin) if norm else None
        self.norm2 = nn.GroupNorm(1, cout) if norm else None
        self.shortcut = _modern_conv(dim, cin, cout, 1, 1, padding) if cin != cout else None
        self.cond_emb = nn.Linear(emb_dim, cout)

    def forward(self, x, emb):
        h = self.conv1(F.gelu(self.norm1(x) if self.norm1 is not None else x))
        e = self.cond_emb(emb)
        h = h + e.view([e.shape[0], e.shape[1]] + [1] * self.dim)
        h = self.conv2(F.gelu(self.norm2(h) if self.norm2 is not None else h))
        return h + (x if self.shortcut is None else self.shortcut(x))


class UnetModernStage(nn.Module):
    """A level's residual block (`res`) or resampling convolution (`conv`), as pdestream names them."""

    def __init__(self, res=None, conv=None):
        super().__init__()
        if res is not None:
            self.res = res
        else:
            self.conv = conv

    @property
    def is_block(self):
        return "res" in self._modules

    def forward(self, x, emb):
        return self.res(x, emb) if self.is_block else self.conv(x)


class UNetModern(nn.Module):
    kind, layout = "unet_modern", "field"

    def __init__(self, dim=1, in_channels=1, out_channels=1, hidden=64, ch_mults=(1, 2, 2, 4), n_blocks=2,
                 norm=True, padding="circular", cond_dim=0, difference_weight=0.0):
        super().__init__()
        ch_mults = [ch_mults] if isinstance(ch_mults, int) else list(ch_mults)
        self.opts = dict(dim=dim, in_channels=in_channels, out_channels=out_channels, hidden=hidden,
                         ch_mults=ch_mults, n_blocks=n_blocks, norm=bool(norm), padding=padding,
                         cond_dim=cond_dim, difference_weight=float(difference_weight))
        d, emb_dim = dim, 4 * hidden
        self.image_proj = _modern_conv(d, in_channels, hidden, 3, 1, padding)
        self.time_embed = _embedding_mlp(hidden, emb_dim)
        if cond_dim > 0:
            self.pde_emb = nn.ModuleList([_embedding_mlp(hidden, emb_dim) for _ in range(cond_dim)])
        self.down = nn.ModuleList()
        levels = len(ch_mults)
        cin = cout = hidden
        for level in range(levels):
            cout = cin * ch_mults[level]
            for _ in range(n_blocks):
                self.down.append(UnetModernStage(res=ModernResidualBlock(d, cin, cout, emb_dim, norm, padding)))
                cin = cout
            if level + 1 < levels:
                self.down.append(UnetModernStage(conv=_modern_conv(d, cin, cin, 3, 2, padding)))
        self.middle = nn.Module()
        self.middle.res1 = ModernResidualBlock(d, cout, cout, emb_dim, norm, padding)
        self.middle.res2 = ModernResidualBlock(d, cout, cout, emb_dim, norm, padding)
        self.up = nn.ModuleList()
        cin = cout
        transposed = (nn.ConvTranspose1d, nn.ConvTranspose2d)[d - 1]
        for level in range(levels - 1, -1, -1):
            cout = cin
            for _ in range(n_blocks):
                self.up.append(UnetModernStage(res=ModernResidualBlock(d, cin + cout, cout, emb_dim, norm, padding)))
            cout = cin // ch_mults[level]
            self.up.append(UnetModernStage(res=ModernResidualBlock(d, cin + cout, cout, emb_dim, norm, padding)))
            cin = cout
            if level > 0:
                # pdearena's Upsample stays zero-padded even when the convolutions are circular.
                self.up.append(UnetModernStage(conv=transposed(cin, cin, 4, stride=2, padding=1)))
        self.norm = nn.GroupNorm(8, hidden)
        self.final = _modern_conv(d, hidden, out_channels, 3, 1, padding)
        with torch.no_grad():
            for p in self.final.parameters():
                p.zero_()

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = OrderedDict(name="unet_modern")
        o.update(self.opts)
        return o

    def _embedding(self, t, cond, batch):
        tt = t.to(torch.float32).flatten() if t is not None else torch.zeros(1)
        if tt.numel() == 1:
            tt = tt.expand(batch)
        emb = self.time_embed(fourier_embedding(tt, self.opts["hidden"]))
        if self.opts["cond_dim"] > 0:
            _check_cond("unet_modern", cond, batch, self.opts["cond_dim"])
            for p in range(self.opts["cond_dim"]):
                emb = emb + self.pde_emb[p](fourier_embedding(cond.select(1, p), self.opts["hidden"]))
        elif cond is not None and cond.numel() > 0:
            raise ValueError("unet_modern: built without conditioning (cond_dim 0), got a cond")
        return emb

    def forward_with_time(self, x, t=None, cond=None):
        factor = 1 << (len(self.opts["ch_mults"]) - 1)
        if any(n % factor for n in x.shape[2:]):
            raise ValueError(f"unet_modern: expected a grid divisible by {factor}, got {tuple(x.shape)}")
        emb = self._embedding(t, cond, x.shape[0])
        h = self.image_proj(x)
        skips = [h]
        for stage in self.down:
            h = stage(h, emb)
            skips.append(h)
        h = self.middle.res2(self.middle.res1(h, emb), emb)
        for stage in self.up:
            if stage.is_block:
                h = torch.cat([h, skips.pop()], 1)
            h = stage(h, emb)
        return self.final(F.gelu(self.norm(h)))

    def forward(self, x, cond=None):
        out = self.forward_with_time(x, None, cond)
        w = self.opts["difference_weight"]
        if w == 0:
            return out
        c = self.opts["out_channels"]
        return x.narrow(1, x.shape[1] - c, c) + w * out


# -------------------------------------------------------------------------------- PDE-Refiner

class PDERefiner(nn.Module):
    """The refinement loop around a UNetModern denoiser (`model`), as pde_refiner.cpp.

    Noise: with `set_noise_seeds(seeds)` example b's draws come from a CPU generator seeded
    with splitmix64(splitmix64(seeds[b]) ^ draws) (draws counts noise_like calls since the
    seeds were set), exactly as pdestream; otherwise from one generator seeded with `seed`
    at construction. torch's CPU generator and randn are the same code in libtorch and in
    Python, so a seeded sample equals pdestream's.
    """
    kind, layout = "pde_refiner", "field"

    def __init__(self, dim=1, in_channels=1, out_channels=1, cond_dim=0, num_refinement_steps=3,
                 min_noise_std=4e-7, difference_weight=0.3, seed=0, base=None):
        super().__init__()
        self.opts = dict(dim=dim, in_channels=in_channels, out_channels=out_channels, cond_dim=cond_dim,
                         num_refinement_steps=num_refinement_steps, min_noise_std=float(min_noise_std),
                         difference_weight=float(difference_weight), seed=int(seed))
        if base is None:
            base = UNetModern(dim=dim, in_channels=in_channels + out_channels, out_channels=out_channels,
                              cond_dim=cond_dim)
        elif isinstance(base, dict):
            base = build_model(base, dim=dim, in_channels=in_channels + out_channels, out_channels=out_channels,
                               cond_dim=cond_dim)
        self.model = base
        k = num_refinement_steps
        self.betas, self.alphas_cumprod, prod = [], [], 1.0
        for j in range(k + 1):
            self.betas.append(math.pow(min_noise_std, float(k - j) / float(k)))
            prod *= 1 - self.betas[-1]
            self.alphas_cumprod.append(prod)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.noise_seeds, self.draws = [], 0

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = OrderedDict(name="pde_refiner")
        o.update(self.opts)
        o["base"] = self.model.options_json()
        return o

    def set_noise_seeds(self, seeds):
        self.noise_seeds, self.draws = [int(s) & _MASK64 for s in seeds], 0

    # torch.Generator does not pickle: carry its state instead (copy.deepcopy, torch.save).
    def __getstate__(self):
        state = self.__dict__.copy()
        state["generator"] = self.generator.get_state()
        return state

    def __setstate__(self, state):
        generator = torch.Generator()
        generator.set_state(state["generator"])
        state["generator"] = generator
        self.__dict__.update(state)

    def noise_like(self, y):
        if not self.noise_seeds:
            return torch.randn(y.shape, generator=self.generator, dtype=y.dtype)
        if len(self.noise_seeds) != y.shape[0]:
            raise ValueError(f"pde_refiner: {len(self.noise_seeds)} noise seeds for a batch of {y.shape[0]}")
        parts = []
        for s in self.noise_seeds:
            g = torch.Generator().manual_seed(splitmix64(splitmix64(s) ^ self.draws))
            parts.append(torch.randn(y.shape[1:], generator=g, dtype=y.dtype))
        self.draws += 1
        return torch.stack(parts)

    def denoise(self, x, y, step, cond=None):
        multiplier = 1000.0 / float(self.opts["num_refinement_steps"])
        return self.model.forward_with_time(torch.cat([x, y], 1), step.to(x.dtype) * multiplier, cond)

    def _last(self, x):
        c = self.opts["out_channels"]
        return x.narrow(1, x.shape[1] - c, c)

    def target_to_y(self, x, target):
        w = self.opts["difference_weight"]
        return target if w == 0 else (target - self._last(x)) / w

    def y_to_target(self, x, y):
        w = self.opts["difference_weight"]
        return y if w == 0 else self._last(x) + w * y

    def forward(self, x, cond=None, y_init=None, noise=True, estimates=False, last_pass=0):
        """K + 1 denoising passes. `y_init` replaces the initial draw and `noise=False`
        drops the ancestral noise (the deterministic path); defaults: pdestream's infer.
        `estimates=True` returns every pass's x0 estimate as a prediction instead (pass K
        first), stopping after pass `last_pass` (K: the initial prediction alone)."""
        k = self.opts["num_refinement_steps"]
        sizes = list(x.shape)
        sizes[1] = self.opts["out_channels"]
        y = self.noise_like(torch.empty(sizes, dtype=x.dtype)) if y_init is None else y_init
        out = []
        for j in range(k, -1, -1):
            pred = self.denoise(x, y, torch.full([x.shape[0]], float(j), dtype=x.dtype), cond)
            abar = self.alphas_cumprod[j]
            abar_prev = self.alphas_cumprod[j - 1] if j > 0 else 1.0
            beta = self.betas[j]
            alpha = 1 - beta
            x0 = math.sqrt(abar) * y - math.sqrt(1 - abar) * pred
            if estimates:
                out.append(self.y_to_target(x, x0))
                if j == last_pass:
                    return out
            y = (math.sqrt(abar_prev) * beta / (1 - abar)) * x0 + (math.sqrt(alpha) * (1 - abar_prev) / (1 - abar)) * y
            if j > 0 and noise:
                y = y + math.sqrt(max((1 - abar_prev) / (1 - abar) * beta, 1e-20)) * self.noise_like(y)
        return self.y_to_target(x, y)


# ---------------------------------------------------------------------------------------- CAPE

class CapeBlock(nn.Module):
    """PrmEmb_Block_1d / _2d (registered as PrmEmb_Pre.0)."""

    def __init__(self, dim, in_channels, cond_dim, width, kernel, modes, pool, spatial):
        super().__init__()
        self.dim, self.pool, self.spatial = dim, pool, list(spatial)
        h, d, c = width // 2, width, in_channels
        self.CNN_0 = _conv(dim, c, h, kernel, padding=kernel // 2, bias=False)
        self.CNN_SC = SpectralConv(dim, h, d, [modes] * dim)
        self.CNN_AD = _conv(dim, h, d, kernel, padding=kernel // 2, bias=False, groups=h)
        self.CNN_AC = _conv(dim, h, d, 1)
        self.CNN_1 = _conv(dim, h, d, 1)
        self.CNN_2 = _conv(dim, d, c, 1)
        for k in range(3):
            self.add_module(f"fc{k}a", nn.Linear(cond_dim, h))
            self.add_module(f"fc{k}b", nn.Linear(h, d))
        self.LN = nn.LayerNorm(self.spatial, eps=1e-5)

    def forward(self, x, cond):
        q = cond
        if self.dim == 2:
            if not bool((cond > 0).all()):
                raise ValueError("cape: the 2D block embeds sigmoid(log p) and expects positive parameters")
            q = torch.sigmoid(torch.log(cond))
        a = []
        for k in range(3):
            v = getattr(self, f"fc{k}b")(F.gelu(getattr(self, f"fc{k}a")(q)))
            a.append(v.unsqueeze(-1).unsqueeze(-1) if self.dim == 2 else v.unsqueeze(-1))
        y = F.gelu(self.CNN_0(x))
        pooled = F.avg_pool2d(y, [self.pool, self.pool]) if self.dim == 2 else F.avg_pool1d(y, [self.pool])
        spectral = F.interpolate(self.CNN_SC(pooled) * a[0], size=self.spatial, mode="nearest")
        z = F.gelu(spectral + self.CNN_AC(y) * a[1] + self.CNN_AD(y) * a[2] + self.CNN_1(y))
        out = self.LN(self.CNN_2(z))
        return x * (1 + out) if self.dim == 2 else x + out


class CAPE(nn.Module):
    kind, layout = "cape", "field"

    def __init__(self, dim=1, in_channels=1, out_channels=1, cond_dim=1, width=64, kernel=5, modes=None,
                 pool=4, spatial=None, base=None):
        super().__init__()
        modes = modes if modes is not None else (9 if dim == 2 else 16)
        if spatial is None:
            raise ValueError("cape: spatial (the training grid, the LayerNorm's shape) is required")
        spatial = [spatial] if isinstance(spatial, int) else list(spatial)
        self.opts = dict(dim=dim, in_channels=in_channels, out_channels=out_channels, cond_dim=cond_dim,
                         width=width, kernel=kernel, modes=modes, pool=pool, spatial=spatial)
        if base is None or isinstance(base, dict):
            base = build_model(base or {"name": "fno"}, dim=dim, in_channels=2 * in_channels,
                               out_channels=2 * out_channels, cond_dim=0)
        self.model = base
        self.PrmEmb_Pre = nn.ModuleList([CapeBlock(dim, in_channels, cond_dim, width, kernel, modes, pool, spatial)])
        self.mix_emb = _conv(dim, 2 * out_channels, out_channels, 1)

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = OrderedDict(name="cape")
        o.update(self.opts)
        o["base"] = self.model.options_json()
        return o

    def forward_with_block(self, x, cond):
        if cond is None:
            raise ValueError(f"cape: expected the PDE parameters cond [B, {self.opts['cond_dim']}], got none")
        e = self.PrmEmb_Pre[0](x, cond)
        return self.mix_emb(self.model(torch.cat([x, e], 1))), e

    def forward(self, x, cond=None):
        return self.forward_with_block(x, cond)[0]


# ------------------------------------------------------------------------------------ DeepONet

class ModifiedMLP(nn.Module):
    def __init__(self, in_features, out_features, width, depth, activation, omega0, modified):
        super().__init__()
        self.activation = activation
        self.omega0 = omega0 if activation == "sin" else 1.0
        self.modified = modified
        if modified:
            self.U = nn.Linear(in_features, width)
            self.V = nn.Linear(in_features, width)
        layers, n = [], in_features
        for _ in range(depth):
            layers.append(nn.Linear(n, width))
            n = width
        layers.append(nn.Linear(n, out_features))
        self.linears = nn.ModuleList(layers)
        with torch.no_grad():
            first = ([self.U, self.V] if modified else []) + [self.linears[0]]
            for layer in ([self.U, self.V] if modified else []) + list(self.linears):
                fan_in = float(layer.weight.shape[1])
                if activation == "sin":
                    bound = 1.0 / fan_in if any(layer is f for f in first) else math.sqrt(6.0 / fan_in) / 30.0
                    layer.weight.uniform_(-bound, bound)
                else:
                    nn.init.xavier_uniform_(layer.weight)
                layer.bias.zero_()

    def act(self, x):
        if self.activation == "sin":
            return torch.sin(x)
        if self.activation == "tanh":
            return torch.tanh(x)
        return F.gelu(x)

    def forward(self, y):
        if self.modified:
            u, v = self.act(self.U(y)), self.act(self.V(y))
        h = y
        depth = len(self.linears) - 1
        for l in range(depth):
            layer = self.linears[l]
            # SIREN: omega0 scales the first layer's input product, not its bias.
            h = self.act(self.omega0 * torch.matmul(h, layer.weight.t()) + layer.bias) if l == 0 else self.act(layer(h))
            if self.modified:
                h = h * u + (1 - h) * v
        return self.linears[depth](h)


class DeepONet(nn.Module):
    kind, layout = "deeponet", "vector"

    def __init__(self, in_channels=4, out_channels=1, cond_dim=3, latent=100, branch_width=256, branch_depth=4,
                 trunk_width=256, trunk_depth=4, activation="sin", omega0=30.0, modified=True,
                 fourier_features=()):
        super().__init__()
        ff = [float(f) for f in fourier_features]
        self.opts = dict(in_channels=in_channels, out_channels=out_channels, cond_dim=cond_dim, latent=latent,
                         branch_width=branch_width, branch_depth=branch_depth, trunk_width=trunk_width,
                         trunk_depth=trunk_depth, activation=activation, omega0=float(omega0),
                         modified=bool(modified), fourier_features=ff)
        self.branch = ModifiedMLP(cond_dim, out_channels * latent, branch_width, branch_depth, activation, omega0,
                                  modified)
        self.trunk = ModifiedMLP(in_channels * (1 + 2 * len(ff)), latent, trunk_width, trunk_depth, activation,
                                 omega0, modified)
        self.b0 = nn.Parameter(torch.zeros(out_channels))
        # Not state: pdestream rebuilds the frequencies from the options.
        self.register_buffer("frequencies", torch.tensor(ff, dtype=torch.float32), persistent=False)

    @property
    def cond_dim(self):
        return self.opts["cond_dim"]

    def options_json(self):
        o = OrderedDict(name="deeponet")
        o.update(self.opts)
        return o

    def features(self, y):
        if not self.opts["fourier_features"]:
            return y
        angles = 2.0 * math.pi * y.unsqueeze(-2) * self.frequencies.to(y.dtype).view(-1, 1)
        return torch.cat([y, torch.cos(angles).flatten(-2), torch.sin(angles).flatten(-2)], -1)

    def forward(self, x, cond=None):
        o = self.opts
        _check_cond("deeponet", cond, x.shape[0], o["cond_dim"])
        b = self.branch(cond).view(cond.shape[0], o["out_channels"], o["latent"])
        t = self.trunk(self.features(x.transpose(1, 2)))
        return torch.einsum("bcl,bml->bcm", b, t) + self.b0.view(1, -1, 1)


# ------------------------------------------------------------------------------------ registry

_CLASSES = {"fno": FNO, "mlp": MLP, "unet": UNet, "unet_modern": UNetModern, "pde_refiner": PDERefiner,
            "cape": CAPE, "deeponet": DeepONet}


def build_model(options, **shape):
    """A module from pdestream's model options (the "model" metadata of a model file).

    `shape` (dim, in_channels, out_channels, cond_dim) is what a wrapping model imposes on
    its base model: the data shape overrides the stored one, a stored cond_dim wins."""
    o = dict(options)
    name = o.pop("name")
    if name not in _CLASSES:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    for k in ("dim", "in_channels", "out_channels"):
        if k in shape:
            o[k] = shape[k]
    if "cond_dim" in shape and "cond_dim" not in o:
        o["cond_dim"] = shape["cond_dim"]
    if name not in FIELD_MODELS:
        o.pop("dim", None)
    return _CLASSES[name](**o)
