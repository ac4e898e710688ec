#!/usr/bin/env python3
"""Trains only the embeddings of a LEP donor: step 3 of the method (docs: Documentation/Propagation.md §1, README "Training the donor").

    python scripts/train_embeddings.py MODEL_DIR --text FILE [--text FILE ...] -o OUT_DIR
        [--max-steps N] [--seq-len L] [--batch B] [--lr LR] [--device cpu|cuda] [--seed S]
        [--holdout FRAC] [--new-rows-only [--old-rows N | --old-tokenizer PATH]] [--force] ...

MODEL_DIR is `lep vocab init`'s output: a Hugging Face checkpoint (safetensors) of the base model with the
new tokenizer and initialised embedding rows. Only `model.embed_tokens.weight` and `lm_head.weight` are
trained (a tied model has one shared matrix); every other tensor, and every other byte of the safetensors
files, is copied from the input unchanged. OUT_DIR is a checkpoint in the input's dtype with the input's
config, generation config and tokenizer files, ready for `lep inspect` and `lep propagate --donor OUT_DIR`.

Text: each --text file is tokenised with MODEL_DIR's tokenizer; the last FRAC of each file's tokens is held
out (the held-out loss is printed before and after training); the rest is cut into windows of
--seq-len tokens (BOS + seq-len - 1 text tokens when the tokenizer has a BOS), shuffled with --seed.

--new-rows-only trains only the rows of tokens the old vocabulary lacks: with --old-tokenizer (or the base
model recorded in MODEL_DIR/lep_vocab_init.json, when that directory still exists) the tokens whose string
the old tokenizer does not have; with --old-rows N (or lep_vocab_init.json's old_rows when the base is
gone) the ids >= N. The other rows are written back bit-identical.

Exit status: 0 done, 1 bad input or failure (the message names the file and the fix), 2 usage error.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import struct
import sys
import time

PROVENANCE = "lep_train_embeddings.json"
VOCAB_INIT_PROVENANCE = "lep_vocab_init.json"
EMBED = "model.embed_tokens.weight"
HEAD = "lm_head.weight"
DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
STALE_WEIGHTS = (".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf")


class TrainError(Exception):
    """Bad input or a failed step: printed as `train_embeddings: error: ...`, exit status 1."""


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def log(msg=""):
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------ arguments

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="train_embeddings.py",
        description="Train only model.embed_tokens and lm_head of a LEP donor (lep vocab init's output) on text.")
    p.add_argument("model_dir", metavar="MODEL_DIR", help="checkpoint directory written by `lep vocab init`")
    p.add_argument("--text", action="append", required=True, metavar="FILE",
                   help="UTF-8 training text (repeat for several files)")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="output checkpoint directory")
    p.add_argument("--max-steps", type=int, default=None, metavar="N",
                   help="optimizer steps (default: one pass over the training windows)")
    p.add_argument("--seq-len", type=int, default=512, metavar="L", help="tokens per window (default 512)")
    p.add_argument("--batch", type=int, default=8, metavar="B", help="windows per step (default 8)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of AdamW (default 1e-3)")
    p.add_argument("--warmup-steps", type=int, default=None, metavar="N",
                   help="linear warm-up steps (default: 5%% of the steps, at most 100); cosine decay to 10%% after")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0)")
    p.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available, else cpu")
    p.add_argument("--dtype", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="compute dtype of the frozen model (default auto: float32 on cpu, bfloat16 on cuda for a "
                        "bf16/f16 checkpoint); trained rows are always kept in float32")
    p.add_argument("--seed", type=int, default=0, help="seed of the window order and of torch (default 0)")
    p.add_argument("--holdout", type=float, default=0.05, metavar="FRAC",
                   help="fraction of each text's tokens held out for the held-out loss (default 0.05; 0 = none)")
    p.add_argument("--eval-windows", type=int, default=32, metavar="N",
                   help="at most N held-out windows for the held-out loss (default 32)")
    p.add_argument("--log-every", type=int, default=None, metavar="N", help="progress line every N steps")
    p.add_argument("--new-rows-only", action="store_true",
                   help="train only the rows of tokens the old vocabulary lacks; other rows stay bit-identical")
    p.add_argument("--old-rows", type=int, default=None, metavar="N",
                   help="with --new-rows-only: rows >= N are new (default: from MODEL_DIR/lep_vocab_init.json)")
    p.add_argument("--old-tokenizer", default=None, metavar="PATH",
                   help="with --new-rows-only: the old tokenizer (directory or tokenizer.json); rows of tokens "
                        "whose string it lacks are new")
    p.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations (less memory)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch")
    p.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    a = p.parse_args(argv)
    if a.max_steps is not None and a.max_steps < 1:
        p.error("--max-steps must be at least 1")
    if a.seq_len < 2:
        p.error("--seq-len must be at least 2")
    if a.batch < 1:
        p.error("--batch must be at least 1")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        p.error("--lr must be a positive number")
    if a.warmup_steps is not None and a.warmup_steps < 0:
        p.error("--warmup-steps must be >= 0")
    if not (0 <= a.holdout < 1):
        p.error("--holdout must be in [0, 1)")
    if a.eval_windows < 1:
        p.error("--eval-windows must be at least 1")
    if a.log_every is not None and a.log_every < 1:
        p.error("--log-every must be at least 1")
    if a.threads is not None and a.threads < 1:
        p.error("--threads must be at least 1")
    if (a.old_rows is not None or a.old_tokenizer is not None) and not a.new_rows_only:
        p.error("--old-rows / --old-tokenizer apply only with --new-rows-only")
    if a.old_rows is not None and a.old_tokenizer is not None:
        p.error("give --old-rows or --old-tokenizer, not both")
    if a.old_rows is not None and a.old_rows < 0:
        p.error("--old-rows must be >= 0")
    return a


# ------------------------------------------------------------------------------------------ checkpoint

def read_header(path):
    """(header dict, data start offset) of a safetensors file; TrainError naming the file when malformed."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise TrainError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            n = struct.unpack("<Q", head)[0]
            size = os.fstat(f.fileno()).st_size
            if n > size - 8 or n > 100_000_000:
                raise TrainError(f"{path}: not a safetensors file (header length {n} exceeds the file size {size})")
            header = json.loads(f.read(n).decode("utf-8"))
    except OSError as e:
        raise TrainError(f"{path}: cannot read ({e.strerror})")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TrainError(f"{path}: not a safetensors file (header is not JSON: {e})")
    if not isinstance(header, dict):
        raise TrainError(f"{path}: not a safetensors file (header is not a JSON object)")
    start = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            b, e = info["data_offsets"]
            ok = 0 <= b <= e and start + e <= size
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise TrainError(f"{path}: tensor '{name}' has bad data_offsets (truncated or corrupt file)")
    return header, start


class Checkpoint:
    """The safetensors files of MODEL_DIR: tensor name -> (file, header entry, data start)."""

    def __init__(self, d):
        self.dir = d
        if not os.path.isdir(d):
            raise TrainError(f"{d}: no such directory (MODEL_DIR must be a checkpoint directory, e.g. lep vocab init's output)")
        if not os.path.isfile(os.path.join(d, "config.json")):
            raise TrainError(f"{d}/config.json is missing: MODEL_DIR must be a Hugging Face checkpoint directory "
                             f"(run `lep vocab init --model BASE --tokenizer NEW_TOKENIZER -o DIR` and pass DIR)")
        try:
            self.config = load_json(os.path.join(d, "config.json"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise TrainError(f"{d}/config.json: not readable JSON ({e}); restore it from the base model")
        index = os.path.join(d, "model.safetensors.index.json")
        if os.path.isfile(index):
            try:
                weight_map = load_json(index)["weight_map"]
                files = sorted(set(weight_map.values()))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
                raise TrainError(f"{index}: not a safetensors index with a weight_map ({e})")
            for f in files:
                if not os.path.isfile(os.path.join(d, f)):
                    raise TrainError(f"{index} names shard '{f}', which is missing from {d}: copy the whole checkpoint")
        else:
            files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
            if not files:
                other = [f for f in os.listdir(d) if f.endswith(STALE_WEIGHTS)]
                hint = (f" (it has {', '.join(other)}: convert it to safetensors first, e.g. with transformers' "
                        f"save_pretrained(safe_serialization=True))") if other else ""
                raise TrainError(f"{d}: no *.safetensors weights{hint}; MODEL_DIR must be lep vocab init's output")
            if len(files) > 1:
                raise TrainError(f"{d}: {len(files)} .safetensors files but no model.safetensors.index.json; "
                                 f"keep only the checkpoint's own shards with their index")
        self.files = files
        self.tensors = {}
        for f in files:
            path = os.path.join(d, f)
            header, start = read_header(path)
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                if name in self.tensors:
                    raise TrainError(f"{path}: tensor '{name}' is also in {self.tensors[name][0]}")
                self.tensors[name] = (f, info, start)

    def info(self, name):
        return self.tensors[name][1]

    def read(self, name):
        """The tensor as torch, in its stored dtype (bytes read as they are on disk)."""
        import torch
        f, info, start = self.tensors[name]
        b, e = info["data_offsets"]
        with open(os.path.join(self.dir, f), "rb") as fh:
            fh.seek(start + b)
            raw = bytearray(fh.read(e - b))
        dt = getattr(torch, DTYPES[info["dtype"]])
        return torch.frombuffer(raw, dtype=dt).reshape(info["shape"]) if raw else torch.empty(info["shape"], dtype=dt)


def sha256_file(path, limit=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = limit
        while True:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
                if left <= 0:
                    break
    return h.hexdigest()


# ------------------------------------------------------------------------------------------ text

def check_text(path, block=1 << 22):
    """Reads `path` once as UTF-8 (in blocks, so any size works): (sha256, characters); TrainError when it is
    missing, a directory, not UTF-8 or has no non-space character."""
    import codecs
    if os.path.isdir(path):
        raise TrainError(f"--text {path} is a directory; give its files (e.g. --text {path}/a.txt --text {path}/b.txt)")
    h = hashlib.sha256()
    dec = codecs.getincrementaldecoder("utf-8")()
    chars, offset, content = 0, 0, False
    try:
        with open(path, "rb") as f:
            while True:
                raw = f.read(block)
                try:
                    text = dec.decode(raw, final=not raw)
                except UnicodeDecodeError as e:
                    raise TrainError(f"--text {path}: not UTF-8 text (invalid byte near offset {offset + e.start}); "
                                     f"convert it to UTF-8")
                h.update(raw)
                chars += len(text)
                content = content or not text.isspace() and text != ""
                offset += len(raw)
                if not raw:
                    break
    except OSError as e:
        raise TrainError(f"--text {path}: cannot read ({e.strerror})")
    if not content:
        raise TrainError(f"--text {path}: empty text (no characters to train on); give a file with training text")
    return h.hexdigest(), chars


def encode_file(tokenizer, path, np, block=1 << 22):
    """Token ids (int64 numpy) of the UTF-8 file `path`, no special tokens, encoded in blocks of about `block`
    characters cut after a blank line (or a line end) so that any size of text fits in memory as ids only."""
    import codecs
    dec = codecs.getincrementaldecoder("utf-8")()
    parts, pending = [], ""
    with open(path, "rb") as f:
        while True:
            raw = f.read(block)
            pending += dec.decode(raw, final=not raw)
            while len(pending) > block or (not raw and pending):
                cut = len(pending)
                if raw or len(pending) > block:
                    for sep in ("\n\n", "\n"):
                        k = pending.rfind(sep, block // 2, block)
                        if k >= 0:
                            cut = k + len(sep)
                            break
                    else:
                        cut = min(len(pending), block)
                parts.append(np.asarray(tokenizer(pending[:cut], add_special_tokens=False)["input_ids"], dtype=np.int64))
                pending = pending[cut:]
            if not raw:
                break
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


# ------------------------------------------------------------------------------------------ training

def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def mean_loss(model, windows, batch, device):
    """Mean next-token loss (nats) over `windows` ([n, L] ids), weighting every window equally."""
    import torch
    if windows is None or len(windows) == 0:
        return None
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(windows), batch):
            x = torch.from_numpy(windows[i:i + batch]).to(device=device, dtype=torch.long)
            out = model(input_ids=x, labels=x)
            total += out.loss.float().item() * x.shape[0]
    model.train()
    return total / len(windows)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(a)
    except TrainError as e:
        print(f"train_embeddings: error: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("train_embeddings: interrupted; nothing written", file=sys.stderr, flush=True)
        return 130


def run(a):
    t_start = time.time()
    model_dir = os.path.abspath(a.model_dir)
    out_dir = os.path.abspath(a.output)

    # ---- Validate everything before the expensive part.
    if os.path.realpath(out_dir) == os.path.realpath(model_dir) or \
            os.path.realpath(model_dir).startswith(os.path.realpath(out_dir) + os.sep):
        raise TrainError(f"-o {a.output}: the output must not be MODEL_DIR or contain it (inputs are never modified)")
    if os.path.lexists(out_dir) and not a.force:
        raise TrainError(f"-o {a.output} exists; choose another output or add --force to replace it")
    parent = os.path.dirname(out_dir)
    if not os.path.isdir(parent):
        raise TrainError(f"-o {a.output}: the parent directory {parent} does not exist; create it first")
    ck = Checkpoint(model_dir)
    if EMBED not in ck.tensors:
        raise TrainError(f"{model_dir}: the checkpoint has no tensor {EMBED}; a LEP donor is a LLaMA/Mistral-style "
                         f"checkpoint written by lep vocab init")
    tied_cfg = bool(ck.config.get("tie_word_embeddings", False))
    if not tied_cfg and HEAD not in ck.tensors:
        raise TrainError(f"{model_dir}: config.json has tie_word_embeddings false but the checkpoint has no {HEAD}; "
                         f"set tie_word_embeddings: true if the model ties them, or restore the missing shard")
    modules = [EMBED] + ([HEAD] if HEAD in ck.tensors else [])
    emb_info = ck.info(EMBED)
    if len(emb_info["shape"]) != 2:
        raise TrainError(f"{model_dir}: {EMBED} has shape {emb_info['shape']}, expected [rows, hidden]")
    rows, hidden = emb_info["shape"]
    for m in modules:
        info = ck.info(m)
        if info["dtype"] not in DTYPES:
            raise TrainError(f"{model_dir}: {m} is stored as {info['dtype']}; only F32, F16 and BF16 embeddings can be trained")
        if info["shape"] != [rows, hidden]:
            raise TrainError(f"{model_dir}: {m} has shape {info['shape']} but {EMBED} has {[rows, hidden]}")
    vocab_size = ck.config.get("vocab_size")
    if vocab_size is not None and vocab_size != rows:
        raise TrainError(f"{model_dir}/config.json: vocab_size {vocab_size} but {EMBED} has {rows} rows; "
                         f"the config does not belong to these weights (re-run lep vocab init)")
    texts = []
    for path in a.text:
        texts.append((path,) + check_text(path))

    # Heavy imports after the cheap checks, so usage errors are fast.
    import numpy as np
    import torch
    if a.device == "cuda" or a.device is None:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import transformers
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: this PyTorch sees no CUDA device; use --device cpu or a CUDA build of torch")
    if a.threads:
        torch.set_num_threads(a.threads)
    ckpt_dtype = ck.info(EMBED)["dtype"]
    if a.dtype == "auto":
        compute = torch.bfloat16 if device == "cuda" and ckpt_dtype in ("BF16", "F16") else torch.float32
    else:
        compute = getattr(torch, a.dtype)

    tok_files = [f for f in ("tokenizer.json", "tokenizer.model") if os.path.isfile(os.path.join(model_dir, f))]
    if not tok_files:
        raise TrainError(f"{model_dir}: no tokenizer.json or tokenizer.model; copy the new tokenizer's files "
                         f"(lep vocab build's output) into MODEL_DIR, or re-run lep vocab init, which carries them")
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except Exception as e:  # noqa: BLE001 - any loader failure is reported with the file
        raise TrainError(f"{model_dir}: transformers cannot load the tokenizer ({type(e).__name__}: {e}); "
                         f"check tokenizer.json / tokenizer_config.json")
    n_tok = len(tokenizer)
    if n_tok > rows:
        raise TrainError(f"{model_dir}: the tokenizer has {n_tok} ids but {EMBED} has only {rows} rows; the tokenizer "
                         f"does not match the embeddings (run lep vocab init with this tokenizer)")
    if n_tok < rows:
        log(f"note: the tokenizer has {n_tok} ids, the embeddings {rows} rows; rows >= {n_tok} (padding) get no "
            f"input and only learn through the softmax")

    trainable_rows = select_rows(a, model_dir, tokenizer, rows)

    # ---- Tokens: per file, the last FRAC held out.
    bos = tokenizer.bos_token_id
    eos = tokenizer.eos_token_id
    t0 = time.time()
    train_parts, hold_parts, text_report = [], [], []
    sep = np.array([eos] if eos is not None else [], dtype=np.int64)
    for path, digest, chars in texts:
        ids = encode_file(tokenizer, path, np)
        if len(ids) == 0:
            raise TrainError(f"--text {path}: the tokenizer gives no tokens for it; give a file with training text")
        cut = len(ids) - int(round(len(ids) * a.holdout))
        train_parts += [ids[:cut], sep]
        if cut < len(ids):
            hold_parts += [ids[cut:], sep]
        text_report.append({"path": path, "sha256": digest, "chars": chars, "tokens": int(len(ids)),
                            "train_tokens": int(cut), "holdout_tokens": int(len(ids) - cut)})
    train_ids = np.concatenate(train_parts)
    hold_ids = np.concatenate(hold_parts) if hold_parts else np.zeros(0, dtype=np.int64)
    body = a.seq_len - (1 if bos is not None else 0)

    def windows(ids, starts, length=body):
        """[len(starts), seq_len] ids: BOS (when the tokenizer has one) + `length` tokens from each start."""
        w = np.stack([ids[s:s + length] for s in starts]) if len(starts) else np.zeros((0, length), dtype=np.int64)
        return np.concatenate([np.full((len(w), 1), bos, dtype=np.int64), w], axis=1) if bos is not None else w

    train_starts = np.arange(0, len(train_ids) - body + 1, body)
    if len(train_starts) == 0:
        raise TrainError(f"too little text: {len(train_ids)} training tokens, fewer than one window of --seq-len "
                         f"{a.seq_len}; give more text or a smaller --seq-len")
    hold_starts = np.arange(0, len(hold_ids) - body + 1, body)
    if len(hold_starts) > a.eval_windows:  # evenly spread over the held-out text
        hold_starts = hold_starts[np.linspace(0, len(hold_starts) - 1, a.eval_windows).round().astype(int)]
    if len(hold_starts):
        hold_windows = windows(hold_ids, hold_starts)
    elif len(hold_ids) >= 2:  # less than one window: one shorter window
        hold_windows = windows(hold_ids, [0], len(hold_ids))
    else:
        hold_windows = None
    n_hold = 0 if hold_windows is None else len(hold_windows)
    log(f"text: {len(texts)} file(s), {sum(r['tokens'] for r in text_report)} tokens in {time.time() - t0:.1f} s; "
        f"{len(train_starts)} training windows of {a.seq_len} tokens, "
        f"{n_hold} held-out window(s)" + ("" if n_hold else " (no held-out loss: --holdout 0 or too little text)"))

    # ---- Model.
    torch.manual_seed(a.seed)
    np_rng = np.random.default_rng(a.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=compute)
    except Exception as e:  # noqa: BLE001
        raise TrainError(f"{model_dir}: transformers cannot load the model ({type(e).__name__}: {e})")
    model.to(device)
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings()
    if emb is None or tuple(emb.weight.shape) != (rows, hidden):
        raise TrainError(f"{model_dir}: transformers' input embedding is not the [{rows}, {hidden}] {EMBED}")
    tied = head is None or head.weight is emb.weight
    if tied != (HEAD not in ck.tensors) and not (tied and tied_cfg):
        raise TrainError(f"{model_dir}: transformers {'ties' if tied else 'does not tie'} lm_head to embed_tokens but "
                         f"the checkpoint {'has' if HEAD in ck.tensors else 'lacks'} {HEAD}; fix tie_word_embeddings in config.json")
    params = {EMBED: emb.weight} if tied else {EMBED: emb.weight, HEAD: head.weight}
    for p in model.parameters():
        p.requires_grad_(False)
    for name, p in params.items():
        on_disk = ck.read(name).to(device)
        if not torch.equal(p.detach(), on_disk.to(p.dtype)):
            raise TrainError(f"{model_dir}: transformers did not load {name} as stored (is it resized or remapped?)")
        p.requires_grad_(True)
    masters = {}
    for name, p in params.items():
        masters[name] = p if p.dtype == torch.float32 else ck.read(name).to(device=device, dtype=torch.float32).requires_grad_(True)
    if a.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    frozen_mask = None
    if trainable_rows is not None:
        frozen_mask = torch.ones(rows, dtype=torch.bool, device=device)
        frozen_mask[torch.tensor(trainable_rows, dtype=torch.long, device=device)] = False

    steps = a.max_steps or max(1, len(train_starts) // a.batch)
    warmup = a.warmup_steps if a.warmup_steps is not None else min(100, steps // 20)
    log_every = a.log_every or max(1, steps // 20)
    opt = torch.optim.AdamW(list(masters.values()), lr=a.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=a.weight_decay)
    n_params = sum(p.numel() for p in params.values())
    what = f"{len(trainable_rows)} of {rows} rows" if trainable_rows is not None else f"all {rows} rows"
    log(f"model: {ck.config.get('architectures', ['?'])[0]}, {rows} × {hidden} embeddings "
        f"({'tied' if tied else 'embed_tokens + lm_head'}, {n_params} values), training {what}; "
        f"{device}, compute {str(compute).replace('torch.', '')}, checkpoint {ckpt_dtype}")

    probe = windows(train_ids, train_starts[np_rng.permutation(len(train_starts))[:a.eval_windows]])
    train_before = mean_loss(model, probe, a.batch, device)
    hold_before = mean_loss(model, hold_windows, a.batch, device)
    log(f"before: training loss {train_before:.4f}" + (f", held-out loss {hold_before:.4f}" if hold_before is not None else ""))

    order = np.array([], dtype=np.int64)
    pos = 0
    tokens_done = 0
    t_train = time.time()
    t_last, tok_last = t_train, 0
    recent = []
    model.train()
    for step in range(steps):
        if pos + a.batch > len(order):  # a fresh shuffled pass; leftover windows start the next pass
            order = np.concatenate([order[pos:], np_rng.permutation(len(train_starts))])
            pos = 0
        x = torch.from_numpy(windows(train_ids, train_starts[order[pos:pos + a.batch]])).to(device)
        pos += a.batch
        lr = lr_at(step, steps, a.lr, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        for name, p in params.items():
            m = masters[name]
            if m is not p:
                m.grad = p.grad.float()
                p.grad = None
            if frozen_mask is not None:
                m.grad[frozen_mask] = 0
        torch.nn.utils.clip_grad_norm_(list(masters.values()), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            for name, p in params.items():
                if masters[name] is not p:
                    p.copy_(masters[name])
        lv = loss.item()
        if not math.isfinite(lv):
            raise TrainError(f"the training loss became {lv} at step {step + 1}; lower --lr (now {a.lr})")
        recent.append(lv)
        tokens_done += x.numel()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            now = time.time()
            tps = (tokens_done - tok_last) / max(now - t_last, 1e-9)
            log(f"step {step + 1}/{steps}  loss {lv:.4f}  (mean of last {len(recent)}: {sum(recent) / len(recent):.4f})  "
                f"lr {lr:.2e}  {tps:,.0f} tokens/s  {now - t_train:.1f} s")
            t_last, tok_last, recent = now, tokens_done, []
    train_seconds = time.time() - t_train
    train_after = mean_loss(model, probe, a.batch, device)
    hold_after = mean_loss(model, hold_windows, a.batch, device)
    log(f"after: training loss {train_after:.4f}" + (f", held-out loss {hold_after:.4f}" if hold_after is not None else ""))
    log(f"trained {steps} steps, {tokens_done} tokens in {train_seconds:.1f} s ({tokens_done / max(train_seconds, 1e-9):,.0f} tokens/s)")
    if hold_before is not None:
        log(f"held-out loss: {hold_before:.4f} -> {hold_after:.4f} nats/token "
            f"({hold_windows.size} tokens of held-out text)")

    # ---- Output: the input's files, the trained tensors written over their own byte ranges.
    result = {
        "tool": "scripts/train_embeddings.py", "model_dir": a.model_dir,
        "model_config_sha256": sha256_file(os.path.join(model_dir, "config.json")),
        "texts": text_report, "device": device, "compute_dtype": str(compute).replace("torch.", ""),
        "checkpoint_dtype": ckpt_dtype, "tied": tied, "modules": modules,
        "trained_rows": len(trainable_rows) if trainable_rows is not None else rows, "rows": rows,
        "new_rows_only": a.new_rows_only,
        "settings": {"max_steps": steps, "seq_len": a.seq_len, "batch": a.batch, "lr": a.lr, "warmup_steps": warmup,
                     "weight_decay": a.weight_decay, "seed": a.seed, "holdout": a.holdout,
                     "eval_windows": a.eval_windows, "schedule": "linear warm-up, cosine to 10%",
                     "optimizer": "AdamW(0.9, 0.95), grad clip 1.0"},
        "loss": {"train_before": train_before, "train_after": train_after,
                 "holdout_before": hold_before, "holdout_after": hold_after, "holdout_windows": n_hold},
        "tokens_trained": tokens_done, "train_seconds": round(train_seconds, 3),
        "tokens_per_second": round(tokens_done / max(train_seconds, 1e-9), 1),
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
                     "numpy": np.__version__},
    }
    write_output(ck, out_dir, a.force, masters, tied, frozen_mask, result)
    log(f"wrote {a.output}: {', '.join(modules)} trained ({what}), every other tensor copied; "
        f"total {time.time() - t_start:.1f} s")
    return 0


def select_rows(a, model_dir, tokenizer, rows):
    """Ids of the rows to train with --new-rows-only (sorted), or None for all rows."""
    if not a.new_rows_only:
        return None
    old_tok_path = a.old_tokenizer
    old_rows = a.old_rows
    prov_path = os.path.join(model_dir, VOCAB_INIT_PROVENANCE)
    if old_tok_path is None and old_rows is None:
        if not os.path.isfile(prov_path):
            raise TrainError(f"--new-rows-only: {prov_path} is missing (MODEL_DIR was not written by lep vocab init); "
                             f"give --old-rows N (the old vocabulary's size) or --old-tokenizer PATH")
        try:
            prov = load_json(prov_path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise TrainError(f"{prov_path}: not readable JSON ({e}); give --old-rows N or --old-tokenizer PATH")
        base = prov.get("base")
        if isinstance(base, str) and os.path.isdir(base) and any(
                os.path.isfile(os.path.join(base, f)) for f in ("tokenizer.json", "tokenizer.model")):
            old_tok_path = base
            log(f"--new-rows-only: old tokenizer from {base} (the base model in {VOCAB_INIT_PROVENANCE})")
        elif isinstance(prov.get("old_rows"), int):
            old_rows = prov["old_rows"]
            log(f"--new-rows-only: rows >= {old_rows} ({VOCAB_INIT_PROVENANCE} old_rows; its base {base!r} is not "
                f"available, so tokens are not matched by string)")
        else:
            raise TrainError(f"{prov_path} has no usable base or old_rows; give --old-rows N or --old-tokenizer PATH")
    if old_tok_path is not None:
        old_vocab = load_vocab(old_tok_path)
        new_vocab = tokenizer.get_vocab()
        ids = sorted(i for t, i in new_vocab.items() if t not in old_vocab and i < rows)
        how = f"tokens absent from the old tokenizer {old_tok_path}"
    else:
        if old_rows >= rows:
            raise TrainError(f"--new-rows-only: the old vocabulary has {old_rows} rows and the model {rows}; there are no "
                             f"rows beyond the old vocabulary (a replaced vocabulary: train all rows, without --new-rows-only)")
        ids = list(range(old_rows, rows))
        how = f"ids >= {old_rows}"
    if not ids:
        raise TrainError(f"--new-rows-only: no new rows ({how}); train all rows without --new-rows-only")
    log(f"--new-rows-only: training {len(ids)} of {rows} rows ({how})")
    return ids


def load_vocab(path):
    """Token string -> id of a tokenizer directory or tokenizer.json (including added tokens)."""
    try:
        if os.path.isfile(path) and path.endswith(".json"):
            from tokenizers import Tokenizer
            return Tokenizer.from_file(path).get_vocab(with_added_tokens=True)
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(path).get_vocab()
    except Exception as e:  # noqa: BLE001
        raise TrainError(f"--old-tokenizer {path}: cannot load it ({type(e).__name__}: {e}); give a tokenizer directory "
                         f"or tokenizer.json")


def write_output(ck, out_dir, force, masters, tied, frozen_mask, result):
    """Copies MODEL_DIR's files into a temporary sibling, writes the trained rows over the embedding tensors'
    own byte ranges (same dtype and shape, so every other byte stays the input's), then renames."""
    import torch
    tmp = os.path.join(os.path.dirname(out_dir), f".{os.path.basename(out_dir)}.tmp-{os.getpid()}")
    old = os.path.join(os.path.dirname(out_dir), f".{os.path.basename(out_dir)}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.mkdir(tmp)
    try:
        skipped = []
        for f in sorted(os.listdir(ck.dir)):
            src = os.path.join(ck.dir, f)
            if not os.path.isfile(src) or f == PROVENANCE:
                continue
            if f.endswith(STALE_WEIGHTS):
                skipped.append(f)
                continue
            shutil.copyfile(src, os.path.join(tmp, f))
        if skipped:
            log(f"note: not copied (weights in other formats would be stale): {', '.join(skipped)}")
        written = {}
        for name in ck.tensors:
            if name not in (EMBED, HEAD):
                continue
            master = masters[EMBED] if (tied or name == EMBED) else masters[HEAD]
            f, info, start = ck.tensors[name]
            dt = getattr(torch, DTYPES[info["dtype"]])
            out = master.detach().to("cpu").to(dt)  # round to nearest even
            if frozen_mask is not None:
                keep = frozen_mask.to("cpu")
                out[keep] = ck.read(name)[keep]
            raw = out.contiguous().view(torch.uint8).numpy().tobytes()
            b, e = info["data_offsets"]
            if len(raw) != e - b:
                raise TrainError(f"internal: {name} is {len(raw)} bytes, its range {e - b}")
            with open(os.path.join(tmp, f), "r+b") as fh:
                fh.seek(start + b)
                fh.write(raw)
            written[name] = f
        result["written"] = written
        with open(os.path.join(tmp, PROVENANCE), "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        for f in os.listdir(tmp):
            fd = os.open(os.path.join(tmp, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if os.path.lexists(out_dir):
            if not force:
                raise TrainError(f"-o {out_dir} appeared while training; add --force to replace it")
            os.rename(out_dir, old)
        os.rename(tmp, out_dir)
        fd = os.open(os.path.dirname(out_dir), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.lexists(old):
            if os.path.isdir(old) and not os.path.islink(old):
                shutil.rmtree(old)
            else:
                os.remove(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


if __name__ == "__main__":
    sys.exit(main())
