"""loe_ref/runs/checkpoint.py: what is saved comes back, bit for bit; a damaged or
mismatched file is refused in one line before anything large is read."""
import io
import json
import struct
import zipfile

import numpy as np
import pytest

from loe_ref.network import Config, init_params
from loe_ref.runs import checkpoint, session
from tests.helpers import SMALL, train_small
from tests.helpers import run_cli as _run


def test_checkpoint_roundtrip(tmp_path):
    cfg = Config(grid="gray_code", act="leaky_relu", pe=2, blend="linear")
    params = init_params(cfg, 1)
    path = tmp_path / "ck.npz"
    checkpoint.save(path, params, cfg, extra={"adam_m/W1": params["W1"] * 0}, meta={"iteration": 3})
    cfg2, params2, extra, meta = checkpoint.load(path)
    assert cfg2 == cfg and meta == {"iteration": 3} and list(extra) == ["adam_m/W1"]
    assert all(np.array_equal(params[k], params2[k]) for k in params)
    assert [f.name for f in tmp_path.iterdir()] == ["ck.npz"]


def _payload_end(data, member):
    """Offset of the last byte of ``member``'s stored bytes in the .npz ``data`` (its array's last value)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len + info.compress_size - 1


def _flipped(data, at):
    flipped = bytearray(data)
    flipped[at] ^= 0xFF
    return bytes(flipped)


def _bad_checkpoints(tmp_path, capsys):
    out = tmp_path / "good"
    assert train_small(capsys, out)[0] == 0
    good = (out / "checkpoint.npz").read_bytes()
    bad = {"truncated": good[:len(good) // 2], "bit-flipped": _flipped(good, _payload_end(good, "W1.npy"))}
    compressed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    bad["compressed"] = compressed.getvalue()
    cfg, params, extra, meta = checkpoint.load(out / "checkpoint.npz")
    for name, (e, m) in {"no-adam_t": (extra, {k: v for k, v in meta.items() if k != "adam_t"}),
                         "no-adam_m": ({k: v for k, v in extra.items() if not k.startswith("adam_m/W1")}, meta)}.items():
        checkpoint.save(tmp_path / f"{name}.npz", params, cfg, extra=e, meta=m)
        bad[name] = (tmp_path / f"{name}.npz").read_bytes()
    return bad


def test_bad_checkpoints_get_one_line(tmp_path, capsys):
    for name, data in _bad_checkpoints(tmp_path, capsys).items():
        path = tmp_path / f"{name}-ck.npz"
        path.write_bytes(data)
        code, _, err = _run(capsys, "--resume", str(path), "--iters", "9", "--out", str(tmp_path / f"o-{name}"))
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (name, err)
        assert str(path) in err and "Traceback" not in err, (name, err)
        if name in ("truncated", "bit-flipped", "compressed"):
            code, _, err = _run(capsys, "--render", str(path), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
            assert code == 2 and err.count("\n") == 1 and str(path) in err, (name, err)
    assert not (tmp_path / "r.png").exists()


def _check_flips(tmp_path, capsys, stride):
    """Flip every ``stride``-th byte of a checkpoint in turn: each copy is refused with
    CheckpointError or reads back the very same state (a flip in a field the reader does not
    use, such as a member's time stamp, changes nothing). Returns how many were refused."""
    out = tmp_path / "good"
    assert train_small(capsys, out)[0] == 0
    good = (out / "checkpoint.npz").read_bytes()
    cfg, params, extra, meta = checkpoint.load(out / "checkpoint.npz")
    path, refused = tmp_path / "flipped.npz", 0
    for at in range(0, len(good), stride):
        path.write_bytes(_flipped(good, at))
        try:
            cfg2, params2, extra2, meta2 = checkpoint.load(path)
        except checkpoint.CheckpointError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc), (at, exc)
            refused += 1
            continue
        assert (cfg2, meta2, list(params2), list(extra2)) == (cfg, meta, list(params), list(extra)), at
        assert all(np.array_equal(a, b) for d, d2 in ((params, params2), (extra, extra2)) for a, b in
                   zip(d.values(), d2.values())), at
    return refused, len(range(0, len(good), stride))


def test_a_flipped_byte_is_refused_or_harmless(tmp_path, capsys):
    refused, tried = _check_flips(tmp_path, capsys, stride=37)
    assert refused > 0.8 * tried, (refused, tried)


@pytest.mark.slow
def test_every_flipped_byte_is_refused_or_harmless(tmp_path, capsys):
    refused, tried = _check_flips(tmp_path, capsys, stride=1)
    assert refused > 0.8 * tried, (refused, tried)


def test_non_finite_parameters_are_never_checkpointed(tmp_path, capsys):
    out = tmp_path / "nan"
    code, _, err = _run(capsys, *SMALL, "--lr", "1e12", "--iters", "50", "--eval-every", "100",
                        "--checkpoint-every", "7", "--out", str(out))
    assert code == 2 and "non-finite" in err and "--lr" in err and err.count("\n") == 1
    assert not (out / "checkpoint.npz").exists()
    out2 = tmp_path / "nan2"                    # one step at this rate stays finite, later ones do not
    code, _, err = _run(capsys, *SMALL, "--lr", "1e12", "--iters", "50", "--eval-every", "100",
                        "--checkpoint-every", "1", "--out", str(out2))
    assert code == 2 and "the last good checkpoint is kept" in err
    _, params, _, meta = checkpoint.load(out2 / "checkpoint.npz")
    assert 1 <= meta["iteration"] < 50 and all(np.isfinite(v).all() for v in params.values())


def test_checkpoint_refuses_non_finite_adam_state(tmp_path):
    from loe_ref.training.loop import Trainer, TrainingError
    from loe_ref.training.options import TrainOptions
    trainer = Trainer(Config(layers=2, hidden=4), TrainOptions(image="coins", size=[8, 8], iters=2))
    trainer.opt.v["W1"][0, 0, 0] = np.inf
    with pytest.raises(TrainingError, match="adam_v/W1"):
        session.save_checkpoint(trainer, str(tmp_path / "checkpoint.npz"))
    assert not (tmp_path / "checkpoint.npz").exists()


def _rewrite(path, out, change):
    """Copy checkpoint ``path`` to ``out`` with change(arrays) applied to its arrays (config and meta as text)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    with open(out, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("name,change,field", [
    ("nan", lambda a: a["W1"].__setitem__((0, 0, 0), np.nan), "'W1' holds non-finite"),
    ("int", lambda a: a.__setitem__("b1", a["b1"].astype(np.int64)), "'b1' has dtype int64"),
    ("complex", lambda a: a.__setitem__("W_out", a["W_out"].astype(np.complex128)), "'W_out' has dtype complex128"),
    ("f16", lambda a: a.__setitem__("W2", a["W2"].astype(np.float16)), "'W2' has dtype float16"),
    ("shape", lambda a: a.__setitem__("config", np.array(str(a["config"]).replace('"hidden": 8', '"hidden": 32'))),
     "has shape"),
    ("adam", lambda a: a["adam_v/W1"].__setitem__((0, 0, 0), np.inf), "'adam_v/W1' holds non-finite"),
    ("iteration", lambda a: a.__setitem__("meta", np.array(str(a["meta"]).replace('"iteration": 4', '"iteration": -4'))),
     "'iteration' is -4"),
])
def test_checkpoints_are_validated_whole(tmp_path, capsys, name, change, field):
    """Resume and render refuse a damaged checkpoint in one line naming the file and the field."""
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    bad = tmp_path / f"{name}.npz"
    _rewrite(out / "checkpoint.npz", bad, change)
    code, _, err = _run(capsys, "--resume", str(bad), "--iters", "9", "--out", str(tmp_path / "o"))
    assert code == 2 and field in err and str(bad) in err and err.count("\n") == 1, err
    if name not in ("adam", "iteration"):                   # render needs the parameters only
        code, _, err = _run(capsys, "--render", str(bad), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
        assert code == 2 and field in err and err.count("\n") == 1, err
        assert not (tmp_path / "r.png").exists()


def _npy_header(shape, descr="<f4"):
    """The bytes of an .npy file that declares ``shape`` and holds no data."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)}, }}"
    header = header + " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def test_a_huge_member_header_is_refused_unread(tmp_path, capsys):
    """A member's header that does not match the configuration is refused before any array
    is read; so is a configuration whose arrays would not fit, all headers consistent."""
    import zipfile

    from loe_ref.runs.checkpoint import expected_members
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    bad = tmp_path / "huge.npz"
    with zipfile.ZipFile(out / "checkpoint.npz") as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "W2.npy":
                data = _npy_header((1000000, 1000000))
            dst.writestr(info, data)
    code, _, err = _run(capsys, "--render", str(bad), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
    assert code == 2 and "'W2' has shape (1000000, 1000000)" in err and err.count("\n") == 1, err
    cfg = Config(layers=3, hidden=30000)
    big = tmp_path / "big.npz"
    with zipfile.ZipFile(big, "w") as dst:
        for name, shape in expected_members(cfg).items():
            dst.writestr(name + ".npy", _npy_header(shape))
        for name, text in (("config", cfg.to_json()), ("meta", "{}")):
            buf = __import__("io").BytesIO()
            np.save(buf, np.array(text))
            dst.writestr(name + ".npy", buf.getvalue())
    code, _, err = _run(capsys, "--render", str(big), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
    assert code == 2 and "GiB of arrays, more than any loe_ref checkpoint holds" in err and err.count("\n") == 1, err


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _write(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _text(value):
    buf = io.BytesIO()
    np.save(buf, np.array(value))
    return buf.getvalue()


@pytest.mark.parametrize("name,change,field", [
    ("shadow", lambda m: m.update({"W1": _npy_header((100000, 100000)) + b"x"}), "unexpected member 'W1'"),
    ("raw", lambda m: m.update({"notes.npy": b"just some text"}), "member 'notes.npy' is not a NumPy array"),
    ("stray", lambda m: m.update({"notes": b"just some text"}), "unexpected member 'notes'"),
    ("elapsed", lambda m: m.update({"meta.npy": _text(json.dumps(dict(json.loads(np.load(io.BytesIO(m["meta.npy"])).item()),
                                                                        elapsed="soon")))}),
     "record field 'elapsed' is 'soon'"),
    ("options", lambda m: m.update({"meta.npy": _text(json.dumps(dict(json.loads(np.load(io.BytesIO(m["meta.npy"])).item()),
                                                                        options=[1, 2])))}),
     "record field 'options' is [1, 2]"),
    ("history", lambda m: m.update({"meta.npy": _text(json.dumps(dict(json.loads(np.load(io.BytesIO(m["meta.npy"])).item()),
                                                                        history={"a": 1})))}),
     "record field 'history'"),
    ("deep", lambda m: m.update({"meta.npy": _text("[" * 100000 + "]" * 100000)}), "RecursionError"),
])
def test_a_hostile_checkpoint_is_refused_in_one_line(tmp_path, capsys, name, change, field):
    """Members are read by their exact names (a member W1 beside W1.npy was once the one
    NumPy read), a member that is not an array, a record field of the wrong type and a
    record nested 100,000 deep are each one line, for a resume and for a render."""
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    members = _members(out / "checkpoint.npz")
    change(members)
    bad = tmp_path / f"{name}.npz"
    _write(bad, members)
    for argv in (["--resume", str(bad), "--iters", "9", "--out", str(tmp_path / "o")],
                 ["--render", str(bad), "--size", "8", "8", "--out", str(tmp_path / "r.png")]):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and field in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "r.png").exists() and not (tmp_path / "o").exists()


def test_a_diverged_state_is_never_the_last_good_checkpoint(tmp_path):
    """The kept checkpoint satisfies the guard's own bound: a step's loss above 100 x the
    first step's is refused before the checkpoint is written, and the advice is one a
    user can follow (a new run; a resumed run keeps its rate)."""
    from loe_ref.training.loop import Trainer, TrainingError
    from loe_ref.training.options import TrainOptions
    trainer = Trainer(Config(layers=2, hidden=4), TrainOptions(image="coins", size=[12, 10], iters=4))
    trainer.fit()
    path = tmp_path / "checkpoint.npz"
    session.save_checkpoint(trainer, path)
    before = path.read_bytes()
    trainer.last_loss = np.float32(101 * trainer.first_loss)
    with pytest.raises(TrainingError, match=r"more than 100 x the first step's.*new run.*last good checkpoint is kept"):
        session.save_checkpoint(trainer, path)
    assert path.read_bytes() == before
    path.unlink()
    trainer.last_loss = np.float32(99 * trainer.first_loss)
    session.save_checkpoint(trainer, path)
    assert path.exists()
