#!/usr/bin/env python3
"""The LEP paper's experiment in miniature: small *trained* models for `make demo`.

Stages (run in order by scripts/toy/make_toy.sh; each is deterministic on CPU with a fixed thread count):
  tokenizers  old tokenizer (byte-level BPE, 2048 ids, LLaMA-3 split regex, ~90 % English / 10 % Russian),
              new Russian tokenizer (SentencePiece BPE, 2048 pieces, byte fallback), both written to the
              work folder (the new one also to fixtures/toy/ru_spm).
  base        base LlamaForCausalLM (untied): an induction curriculum first (fresh random spans "P A A",
              loss on the second A only: short rows over the 512 most frequent tokens, then longer rows
              over all tokens and text windows), then language modelling on English + Russian text in
              which fresh spans recur ("W … W", drawn on the fly so they cannot be memorised). Without
              the curriculum the induction heads did not form in 4000 steps on this budget.
  instruct    base + ChatML specials <|im_start|>/<|im_end|> + chat_template, fine-tuned gently (lower
              learning rate, far fewer tokens than the base) on generated EN/RU chats (copy, first/last
              word, continue a sentence, word choice); loss on the assistant turns only.
  donor-text  Russian training text for the donor (train part of the texts with recurring spans, plus fresh
              repeated spans so the new embedding rows learn to work with the induction heads),
              written to the work folder for scripts/train_embeddings.py (never committed).
  record-donor  copies scripts/train_embeddings.py's provenance summary into the timings.
  check       greedy copy check of fixtures/toy/instruct on held-out sentences/paragraphs (printed).
  manifest    fixtures/toy/MANIFEST.json (sha256 of every committed file, versions, seeds, timings).

Training texts come from ../shared/realdata/text (read only, never copied into the repository); the last
5 % of every text is held out (losses in the manifest, copy check).
"""
import difflib
import hashlib
import json
import math
import os
import random
import re
import shutil
import sys
import time

import numpy as np
import torch

THREADS = int(os.environ.get("TOY_THREADS", 2))
torch.set_num_threads(THREADS)
torch.set_num_interop_threads(1)

import safetensors.torch  # noqa: E402
import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("TOY_TEXT") or os.path.join(
    os.path.abspath(os.environ.get("LEP_REALDATA") or os.path.join(ROOT, "..", "shared", "realdata")), "text")
OUT = os.environ.get("TOY_OUT", os.path.join(ROOT, "fixtures", "toy"))
WORK = os.environ.get("TOY_WORK", os.path.join(ROOT, ".build-toy", "toy-work"))  # scratch, git-ignored
TIMINGS = os.path.join(WORK, "timings.json")

SEED = 20241230
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
BOS, EOS, IM_START, IM_END = "<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}"
                 "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
                 "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

# Model and training sizes: base 1300 induction + 2000 language-modelling steps (1472 CPU s), instruct 500 steps,
# donor 600 steps (scripts/train_embeddings.py); ≈ 20 minutes wall on the shared 2-core machine (times in
# fixtures/toy/MANIFEST.json). Committed ≈ 3 × 2.6 MB (bf16).
HIDDEN, LAYERS, HEADS, KV_HEADS, FFN = 128, 4, 4, 4, 384
OLD_VOCAB, NEW_VOCAB = 2048, 2048
# Base: an induction curriculum (INDUCTION_STEPS: fresh random spans "P A A", loss on the second A only;
# first on the 512 most frequent tokens at length 32, then on all tokens at length 64), then BASE_STEPS of
# language modelling on text with fresh recurring spans mixed in (on the fly, never the same twice).
INDUCTION_SMALL_STEPS, INDUCTION_STEPS = 600, int(os.environ.get("TOY_INDUCTION_STEPS", 1300))
BASE_STEPS, BASE_BATCH, BASE_SEQ, BASE_LR = int(os.environ.get("TOY_BASE_STEPS", 2000)), 8, 256, 3e-3
INST_STEPS, INST_BATCH, INST_LR = int(os.environ.get("TOY_INST_STEPS", 500)), 8, float(os.environ.get("TOY_INST_LR", 1e-3))
INST_MAXLEN = 448
DONOR_FRESH_SPANS = int(os.environ.get("TOY_DONOR_FRESH_SPANS", 1000))  # per Russian text, see stage_donor_text
# Experiment knobs (defaults = the committed fixtures; README "Why not more" quotes what the others gave):
# TOY_INST_LR (instruct learning rate), TOY_INST_PARAPHRASES (share of copy instructions phrased by
# `copy_instruction`'s generator), TOY_DONOR_NATURAL (share of the donor's fresh repeated spans that are
# natural sentences/paragraphs instead of random word sequences or reversed paragraphs).
NATURAL_SHARE = float(os.environ.get("TOY_DONOR_NATURAL", 0))
SPAN_SHARE = 0.5  # of the language-modelling segments: a fresh span W twice ("W\n\n[gap]W\n\n")


def log(*a):
    print(*a, flush=True)


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


def texts():
    en = open(os.path.join(SHARED, "en", "tinyshakespeare.txt"), encoding="utf-8").read()
    ru = {}
    for f in sorted(os.listdir(os.path.join(SHARED, "ru"))):
        if f.endswith(".txt"):
            ru[f] = open(os.path.join(SHARED, "ru", f), encoding="utf-8").read()
    return en, ru


def split_holdout(text, frac=0.05):
    """Last `frac` of a text (cut at a line end) is held out."""
    cut = text.rfind("\n", 0, int(len(text) * (1 - frac)))
    return text[:cut], text[cut:]


def splits():
    """(en_train, en_hold, ru_train {file: text}, ru_hold {file: text})."""
    en, ru = texts()
    en_train, en_hold = split_holdout(en)
    ru_train, ru_hold = {}, {}
    for k, v in ru.items():
        ru_train[k], ru_hold[k] = split_holdout(v)
    return en_train, en_hold, ru_train, ru_hold


def paragraphs(text, lo=40, hi=300):
    """Paragraph-sized pieces of running text (blank-line blocks for English, lines for Russian prose)."""
    text = text.replace("\r", "")
    blocks = re.split(r"\n\s*\n", text) if "\n\n" in text else text.split("\n")
    parts = [re.sub(r"\s+", " ", p).strip() for p in blocks]
    out = []
    for p in parts:
        while len(p) > hi:  # cut long paragraphs at sentence ends
            cut = max(p.rfind(". ", 0, hi), p.rfind("! ", 0, hi), p.rfind("? ", 0, hi))
            if cut < lo:
                cut = p.rfind(" ", 0, hi)
            if cut < lo:
                break
            out.append(p[:cut + 1].strip())
            p = p[cut + 1:].strip()
        if lo <= len(p) <= hi:
            out.append(p)
    return out


def sentences(text, lo=20, hi=200):
    """Sentences of running text (split after . ! ? followed by a space and a capital letter)."""
    flat = re.sub(r"\s+", " ", text.replace("\r", ""))
    parts = re.split(r"(?<=[.!?])\s+(?=[A-ZА-ЯЁ«\"—-])", flat)
    return [s.strip() for s in parts if lo <= len(s.strip()) <= hi]


def words(t):
    return re.findall(r"\w+", t)


# ---------------------------------------------------------------- pre-training text with recurring spans

def random_words(rng, vocab, freq_words):
    """A random word sequence (uniform over distinct words or by frequency), with numbers and punctuation."""
    n = rng.randint(4, 60)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.08:
            out.append(str(rng.randint(0, 2000)) if rng.random() < 0.7 else f"{rng.randint(1, 23)}:{rng.randint(10, 59)}")
        elif r < 0.5:
            out.append(rng.choice(vocab))
        else:
            out.append(rng.choice(freq_words))
        if rng.random() < 0.12:
            out[-1] += rng.choice([",", ".", ";", "!", "?", ":"])
    s = " ".join(out)
    return s[:1].upper() + s[1:]


def repeat_corpus(text, rng, share_repeat=0.5, share_random=0.2):
    """(The donor's training text.) The text as documents joined by blank lines, with recurring spans mixed in: every paragraph once in
    order, plus (share_repeat) documents `S\\n\\nS` or `S\\n\\nT\\n\\nS` with S a sentence or paragraph of
    the text and (share_random) documents `W\\n\\nW` with W a random word sequence."""
    paras = paragraphs(text, 20, 600)
    sents = sentences(text, 15, 250)
    ws = words(text)
    vocab = sorted(set(ws))
    docs = []
    for p in paras:
        docs.append(p)
        r = rng.random()
        if r < share_repeat:
            s = rng.choice(sents) if rng.random() < 0.5 else rng.choice(paras)
            if rng.random() < 0.3:
                docs.append(s + "\n\n" + rng.choice(sents) + "\n\n" + s)
            else:
                docs.append(s + "\n\n" + s)
        elif r < share_repeat + share_random:
            w = random_words(rng, vocab, ws)
            docs.append(w + "\n\n" + w)
    return "\n\n".join(docs)


class SpanSampler:
    """Pre-training rows drawn on the fly from token streams, with fresh recurring spans.

    Copying in context needs induction heads, and they only form when the repeated material cannot be
    memorised: every span here is new (random tokens, or a random window of the text), so predicting its
    second occurrence is possible only by looking back at the first."""

    def __init__(self, streams, vocab, bos, sep, seed):
        self.streams, self.bos, self.sep = streams, bos, sep
        self.rng = np.random.default_rng(seed)
        counts = np.bincount(np.concatenate([np.asarray(s) for s in streams]), minlength=vocab).astype(np.float64)
        counts[vocab - 2:] = 0  # BOS/EOS never appear inside spans
        self.probs = np.sqrt(counts + 0.5)
        self.probs[vocab - 2:] = 0
        self.probs /= self.probs.sum()  # square-root-flattened unigram: frequent tokens, but all of them
        self.top = np.argsort(-counts)[:512]
        self.vocab = vocab

    def tokens(self, n, small=False):
        if small:
            return [int(v) for v in self.rng.choice(self.top, size=n)]
        return [int(v) for v in self.rng.choice(self.vocab, size=n, p=self.probs)]

    def natural(self, n):
        s = self.streams[self.rng.integers(len(self.streams))]
        i = int(self.rng.integers(0, len(s) - n))
        return list(s[i:i + n])

    def induction_row(self, length, small):
        """BOS, a prefix P, a span A, A again, random filler; returns (ids, (start, end) of the scored part:
        the second A without its first token, which cannot be predicted)."""
        pre = int(self.rng.integers(0, length // 4))
        h = int(self.rng.integers(4, (length - pre - 1) // 2))
        src = (lambda n: self.tokens(n, True)) if small else (self.tokens if self.rng.random() < 0.6 else self.natural)
        p, a = src(pre), src(h)
        row = [self.bos] + p + a + a
        row += self.tokens(length - len(row), small)
        return row, (1 + pre + h + 1, 1 + pre + 2 * h)

    def lm_row(self, length):
        """Text windows separated by blank lines; SPAN_SHARE of the segments are a fresh span W twice."""
        out = [self.bos]
        while len(out) < length:
            if self.rng.random() < SPAN_SHARE:
                n = int(self.rng.integers(5, 60))
                w = self.tokens(n) if self.rng.random() < 0.5 else self.natural(n)
                gap = self.natural(int(self.rng.integers(0, 30))) if self.rng.random() < 0.4 else []
                out += w + self.sep + gap + w + self.sep
            else:
                out += self.natural(int(self.rng.integers(30, 120))) + self.sep
        return out[:length]


# ---------------------------------------------------------------- models and training helpers

def llama_config(vocab):
    return transformers.LlamaConfig(
        vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=1024,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        bos_token_id=OLD_VOCAB - 2, eos_token_id=OLD_VOCAB - 1, torch_dtype="bfloat16")


def cosine_lr(step, total, peak, warmup=40):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def save_bf16(model, d):
    model.to(torch.bfloat16).save_pretrained(d)
    model.float()


def eval_loss(model, stream, seq, bos_id, n=12):
    """Mean NLL per token (nats) on up to n fixed windows of a held-out token stream."""
    model.eval()
    losses = []
    with torch.no_grad():
        step = max(1, (len(stream) - seq) // n)
        for i in range(0, min(n * step, len(stream) - seq), step):
            x = torch.tensor([[bos_id] + stream[i:i + seq - 1]])
            losses.append(model(input_ids=x, labels=x).loss.item())
    model.train()
    return float(np.mean(losses))


def repeat_loss(model, tok_encode, spans, bos_id):
    """Mean NLL per token (nats) of the second occurrence of held-out spans in `S\\n\\nS` (copying ability)."""
    model.eval()
    losses = []
    with torch.no_grad():
        for s in spans:
            a = tok_encode(s + "\n\n")
            b = tok_encode(s)
            x = torch.tensor([[bos_id] + a + b])
            y = torch.tensor([[-100] * (1 + len(a)) + b])
            losses.append(model(input_ids=x, labels=y).loss.item())
    model.train()
    return float(np.mean(losses))


def train_loop(model, params, steps, make_batch, lr_at, tag, probe=None):
    """AdamW steps on batches from `make_batch()` -> (input_ids, labels); progress every 25 steps."""
    opt = torch.optim.AdamW(params, lr=lr_at(0), betas=(0.9, 0.95), weight_decay=0.0)
    t0, c0 = time.time(), time.process_time()
    model.train()
    ema = None
    for step in range(steps):
        x, y = make_batch()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = model(input_ids=x, labels=y).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0 or step == steps - 1:
            extra = ""
            if probe and (step % 100 == 0 or step == steps - 1):
                extra = f" | probe {probe(model)}"
            dt = time.time() - t0
            log(f"[{tag}] step {step}/{steps} loss {loss.item():.3f} ema {ema:.3f} ({dt:.0f} s){extra}")
    return {"steps": steps, "seconds": round(time.time() - t0, 1), "cpu_seconds": round(time.process_time() - c0, 1),
            "final_train_loss_ema": round(ema, 4)}


# ---------------------------------------------------------------- stage: tokenizers

def train_old_tokenizer(en, ru_all):
    """Byte-level BPE like LLaMA-3's (split regex + ByteLevel), ~90 % English / 10 % Russian training text."""
    rng = random.Random(SEED)
    en_lines = [l for l in en.split("\n") if l.strip()]
    ru_lines = [l for l in ru_all.split("\n") if l.strip()]
    rng.shuffle(ru_lines)
    en_chars = sum(len(l) for l in en_lines)
    ru_sample, n = [], 0
    for l in ru_lines:  # Russian: one ninth of the English volume (10 % of the mix)
        if n > en_chars / 9:
            break
        ru_sample.append(l)
        n += len(l)
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=OLD_VOCAB - 2, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             show_progress=False)
    tok.train_from_iterator(en_lines + ru_sample, tr)
    tok.add_special_tokens([BOS, EOS])
    assert tok.token_to_id(BOS) == OLD_VOCAB - 2 and tok.token_to_id(EOS) == OLD_VOCAB - 1, tok.get_vocab_size()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, tok.token_to_id(BOS))])
    return tok, {"english_chars": en_chars, "russian_chars": n}


def write_tokenizer(tok, d, extra_specials=(), eos=EOS, chat_template=None):
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=eos,
                                                additional_special_tokens=list(extra_specials) or None)
    fast.model_max_length = 1024
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(d)
    # transformers 5 may write the template to chat_template.jinja; the project reads tokenizer_config.json
    cfgp = os.path.join(d, "tokenizer_config.json")
    cfg = json.load(open(cfgp))
    jinja = os.path.join(d, "chat_template.jinja")
    if chat_template:
        cfg["chat_template"] = chat_template
        if os.path.exists(jinja):
            os.remove(jinja)
    json.dump(cfg, open(cfgp, "w"), ensure_ascii=False, indent=2)
    return fast


def stage_tokenizers():
    os.makedirs(WORK, exist_ok=True)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for f in os.listdir(WORK):  # token caches of the base stage belong to the previous tokenizer
        if f.startswith("pretrain_ids_"):
            os.remove(os.path.join(WORK, f))
    timings = {}
    en_train, _, ru_train, _ = splits()
    ru_all = "\n".join(ru_train.values())
    t0 = time.time()
    tok, mix = train_old_tokenizer(en_train, ru_all)
    tok.save(os.path.join(WORK, "old_tokenizer.json"))
    ru_ids = tok.encode(ru_all, add_special_tokens=False).ids
    en_ids = tok.encode(en_train, add_special_tokens=False).ids
    timings["old_tokenizer"] = {"seconds": round(time.time() - t0, 1), **mix,
                                "ru_chars_per_token": round(len(ru_all) / len(ru_ids), 3),
                                "en_chars_per_token": round(len(en_train) / len(en_ids), 3)}
    log("old tokenizer:", timings["old_tokenizer"])

    # new Russian tokenizer: SentencePiece BPE, byte fallback, Russian + a little English (≈ 10 %)
    t0 = time.time()
    rng = random.Random(SEED + 4)
    ru_lines = [l for l in ru_all.split("\n") if l.strip()]
    en_lines = [l for l in en_train.split("\n") if l.strip()]
    rng.shuffle(en_lines)
    ru_chars, en_take, n = sum(map(len, ru_lines)), [], 0
    for l in en_lines:
        if n > ru_chars / 9:
            break
        en_take.append(l)
        n += len(l)
    prefix = os.path.join(WORK, "ru_spm")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(ru_lines + en_take), model_prefix=prefix, vocab_size=NEW_VOCAB, model_type="bpe",
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        character_coverage=0.9995, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, bos_piece=BOS, eos_piece=EOS,
        split_digits=True, num_threads=1, minloglevel=2, seed_sentencepiece_size=200000)
    os.makedirs(os.path.join(OUT, "ru_spm"), exist_ok=True)
    shutil.copy(prefix + ".model", os.path.join(OUT, "ru_spm", "tokenizer.model"))
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    timings["new_tokenizer"] = {"seconds": round(time.time() - t0, 1), "pieces": sp.get_piece_size(),
                                "russian_chars": ru_chars, "english_chars": n,
                                "ru_chars_per_token": round(len(ru_all) / len(sp.encode(ru_all)), 3)}
    log("new tokenizer:", timings["new_tokenizer"])
    json.dump(timings, open(TIMINGS, "w"), indent=2)


# ---------------------------------------------------------------- stage: base

def held_out_spans(en_hold, ru_hold_all, n=8):
    rng = random.Random(SEED + 9)
    out = {}
    for lang, t in (("en", en_hold), ("ru", ru_hold_all)):
        ss = sentences(t, 40, 200)
        out[lang] = rng.sample(ss, min(n, len(ss)))
    return out


def stage_base():
    timings = json.load(open(TIMINGS))
    seed_all(SEED)
    en_train, en_hold, ru_train, ru_hold = splits()
    ru_hold_all = "\n".join(ru_hold.values())
    tok = Tokenizer.from_file(os.path.join(WORK, "old_tokenizer.json"))
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids  # noqa: E731
    en_ids, ru_ids = enc(en_train), enc("\n\n".join(ru_train.values()))
    hold = {"en": enc(en_hold), "ru": enc(ru_hold_all)}
    spans = held_out_spans(en_hold, ru_hold_all)
    log("pre-training text tokens: en", len(en_ids), "ru", len(ru_ids))
    bos = tok.token_to_id(BOS)
    sampler = SpanSampler([en_ids, ru_ids], OLD_VOCAB, bos, enc("\n\n"), SEED + 10)

    def probe(m):
        return " ".join(f"copy_{k} {repeat_loss(m, enc, v[:4], bos):.2f}" for k, v in spans.items())

    def induction_batch(step):
        small = step < INDUCTION_SMALL_STEPS
        length, n = (32, 64) if small else (64, 32)
        rows, scored = zip(*[sampler.induction_row(length, small) for _ in range(n)])
        x = torch.tensor(rows)
        y = torch.full_like(x, -100)
        for i, (a, b) in enumerate(scored):
            y[i, a:b] = x[i, a:b]
        return x, y

    def lm_batch():
        x = torch.tensor([sampler.lm_row(BASE_SEQ) for _ in range(BASE_BATCH)])
        return x, x

    seed_all(SEED + 1)
    model = transformers.LlamaForCausalLM(llama_config(OLD_VOCAB)).float()
    params = list(model.parameters())
    counter = iter(range(10 ** 9))
    ind = train_loop(model, params, INDUCTION_STEPS, lambda: induction_batch(next(counter)),
                     lambda s: 2e-3 * min(1.0, (s + 1) / 40), "base/induction", probe)
    ind.update({"rows": f"{INDUCTION_SMALL_STEPS} steps 64 × 32 tokens over the 512 most frequent tokens, then "
                        "32 × 64 tokens over all (square-root-flattened unigram) or text windows",
                "lr": 2e-3})
    res = train_loop(model, params, BASE_STEPS, lm_batch, lambda s: cosine_lr(s, BASE_STEPS, BASE_LR), "base/lm", probe)
    res.update({"batch": BASE_BATCH, "seq": BASE_SEQ, "lr": BASE_LR, "tokens": BASE_STEPS * BASE_BATCH * BASE_SEQ,
                "induction_curriculum": ind,
                "train_tokens": {"en": len(en_ids), "ru": len(ru_ids)},
                "text_mix": (f"rows of text windows (English or Russian, even odds) separated by blank lines; "
                             f"{SPAN_SHARE:.0%} of the segments are a fresh span W twice (random tokens or a text "
                             "window, 5-60 tokens), sometimes with text between")})
    res["holdout_nll"] = {k: round(eval_loss(model, v, BASE_SEQ, bos), 4) for k, v in hold.items()}
    res["holdout_repeat_nll"] = {k: round(repeat_loss(model, enc, v, bos), 4) for k, v in spans.items()}
    log("base:", res)
    base_dir = os.path.join(OUT, "base")
    save_bf16(model, base_dir)
    write_tokenizer(tok, base_dir)
    json.dump({"bos_token_id": bos, "eos_token_id": tok.token_to_id(EOS)},
              open(os.path.join(base_dir, "generation_config.json"), "w"), indent=2)
    timings["base"] = res
    json.dump(timings, open(TIMINGS, "w"), indent=2)


# ---------------------------------------------------------------- stage: instruct

EN_TASKS = {
    "copy": ["Repeat the following text exactly, without changing or adding anything:\n\n{t}",
             "Copy this text word for word:\n\n{t}"],
    "first": "What is the first word of this text?\n\n{t}",
    "last": "What is the last word of this text?\n\n{t}",
    "choice": "Which of these words occurs in the text?\n\n{t}\n\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer with a single letter.",
    "continue": "Continue this text:\n\n{t}",
    "system": "You are a helpful assistant.", "answer": "Answer:",
}
RU_TASKS = {
    "copy": ["Повтори следующий текст в точности, ничего не меняя и ничего не добавляя:\n\n{t}",
             "Перепиши этот текст слово в слово:\n\n{t}"],
    "first": "Какое первое слово в этом тексте?\n\n{t}",
    "last": "Какое последнее слово в этом тексте?\n\n{t}",
    "choice": "Какое из этих слов есть в тексте?\n\n{t}\n\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nОтветь одной буквой.",
    "continue": "Продолжи текст:\n\n{t}",
    "system": "Ты полезный ассистент.", "answer": "Ответ:",
}


# Copy instructions are also phrased in many other ways (verb × object × manner), so the instruct model keys
# copying on what the instruction says rather than on one memorised token sequence.
PHRASINGS = {
    "en": (["Repeat", "Copy", "Rewrite", "Reproduce", "Write out again", "Say again"],
           ["the following text", "this text", "the text below", "the text"],
           ["", " exactly", " word for word", " without any changes", ", without changing or adding anything", " verbatim"]),
    "ru": (["Повтори", "Перепиши", "Скопируй", "Воспроизведи", "Напиши ещё раз", "Выведи"],
           ["следующий текст", "этот текст", "текст ниже", "приведённый текст"],
           ["", " в точности", " слово в слово", " без изменений", ", ничего не меняя и ничего не добавляя", " дословно"]),
}
PARAPHRASE_SHARE = float(os.environ.get("TOY_INST_PARAPHRASES", 0))


def copy_instruction(lang, rng):
    """A copy instruction: one of the two fixed ones, or (PARAPHRASE_SHARE of the time) a generated phrasing."""
    T = EN_TASKS if lang == "en" else RU_TASKS
    if PARAPHRASE_SHARE and rng.random() < PARAPHRASE_SHARE:
        verbs, objects, manners = PHRASINGS[lang]
        return f"{rng.choice(verbs)} {rng.choice(objects)}{rng.choice(manners)}:\n\n{{t}}"
    return T["copy"][0] if rng.random() < 0.8 else T["copy"][1]


def make_instructions(text, lang, n, rng):
    """n chat examples from one language's training text: copy (60 %: sentences, paragraphs up to 320
    characters, random word sequences), first/last word (12 %), four-way word choice with an `Answer:`
    prefix (8 %), continue a sentence (20 %: the rest of the sentence, at most ~12 words)."""
    T = EN_TASKS if lang == "en" else RU_TASKS
    paras = paragraphs(text, 60, 320)
    sents = sentences(text, 15, 200)
    ws = words(text)
    vocab = sorted({w for w in ws if len(w) > 3})
    allv = sorted(set(ws))
    out = []
    while len(out) < n:
        r = rng.random()
        if r < 0.6:
            q = rng.random()
            p = rng.choice(sents) if q < 0.45 else rng.choice(paras) if q < 0.85 else random_words(rng, allv, ws)
            user, ans = copy_instruction(lang, rng).format(t=p), p
        elif r < 0.72:
            p = rng.choice(sents)
            w = words(p)
            if not w:
                continue
            key = "first" if rng.random() < 0.6 else "last"
            user, ans = T[key].format(t=p), (w[0] if key == "first" else w[-1])
        elif r < 0.8:
            p = rng.choice(sents)
            inside = [w for w in set(words(p)) if len(w) > 3]
            if not inside:
                continue
            good = rng.choice(sorted(inside))
            bad = [w for w in rng.sample(vocab, 12) if w not in p][:3]
            if len(bad) < 3:
                continue
            opts = bad[:]
            k = rng.randrange(4)
            opts.insert(k, good)
            user = T["choice"].format(t=p, a=opts[0], b=opts[1], c=opts[2], d=opts[3])
            ans = f"{T['answer']} {'ABCD'[k]}"
        else:
            w = rng.choice(sents).split(" ")
            if len(w) < 5:
                continue
            cut = max(2, len(w) - rng.randint(3, 12))
            user, ans = T["continue"].format(t=" ".join(w[:cut])), " ".join(w[cut:])
        msgs = ([{"role": "system", "content": T["system"]}] if rng.random() < 0.2 else [])
        msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": ans}]
        out.append(msgs)
    return out


def encode_chat(tok, msgs):
    """Token ids and loss mask (assistant content + <|im_end|>) of one conversation, rendered as the template."""
    ids, mask = [tok.token_to_id(BOS)], [0]
    for m in msgs:
        head = tok.encode(f"{IM_START}{m['role']}\n", add_special_tokens=False).ids
        body = tok.encode(m["content"], add_special_tokens=False).ids + [tok.token_to_id(IM_END)]
        nl = tok.encode("\n", add_special_tokens=False).ids
        on = 1 if m["role"] == "assistant" else 0
        ids += head + body + nl
        mask += [0] * len(head) + [on] * len(body) + [0] * len(nl)
    return ids, mask


def stage_instruct():
    timings = json.load(open(TIMINGS))
    en_train, _, ru_train, _ = splits()
    base_dir, inst_dir = os.path.join(OUT, "base"), os.path.join(OUT, "instruct")
    seed_all(SEED + 2)
    tok = Tokenizer.from_file(os.path.join(WORK, "old_tokenizer.json"))
    tok.add_special_tokens([IM_START, IM_END])
    assert tok.token_to_id(IM_START) == OLD_VOCAB and tok.token_to_id(IM_END) == OLD_VOCAB + 1
    model = transformers.LlamaForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model.resize_token_embeddings(OLD_VOCAB + 2, mean_resizing=True)
    model.config.eos_token_id = [tok.token_to_id(IM_END), tok.token_to_id(EOS)]
    rng = random.Random(SEED + 3)
    n_chats = INST_STEPS * INST_BATCH // 2 + 200
    chats = make_instructions(en_train, "en", n_chats, rng)
    chats += [c for t in ru_train.values() for c in make_instructions(t, "ru", n_chats // len(ru_train), rng)]
    rng.shuffle(chats)
    enc = [encode_chat(tok, c) for c in chats]
    enc = [e for e in enc if len(e[0]) <= INST_MAXLEN]
    log("instruct examples:", len(enc), "mean tokens", np.mean([len(e[0]) for e in enc]))
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=INST_LR, betas=(0.9, 0.95), weight_decay=0.0)
    t0, c0 = time.time(), time.process_time()
    model.train()
    def batches():  # length-bucketed batches (less padding): chunks of 8 batches sorted by length, shuffled
        while True:
            order = list(range(len(enc)))
            rng.shuffle(order)
            chunk = INST_BATCH * 8
            bs = []
            for c in range(0, len(order) - chunk + 1, chunk):
                part = sorted(order[c:c + chunk], key=lambda i: len(enc[i][0]))
                bs += [part[k:k + INST_BATCH] for k in range(0, chunk, INST_BATCH)]
            rng.shuffle(bs)
            yield from bs

    feed = batches()
    ema, ntok = None, 0
    for step in range(INST_STEPS):
        batch = [enc[i] for i in next(feed)]
        L = max(len(b[0]) for b in batch)
        pad = tok.token_to_id(EOS)
        x = torch.tensor([b[0] + [pad] * (L - len(b[0])) for b in batch])
        y = torch.tensor([[t if m else -100 for t, m in zip(b[0], b[1])] + [-100] * (L - len(b[0])) for b in batch])
        att = torch.tensor([[1] * len(b[0]) + [0] * (L - len(b[0])) for b in batch])
        ntok += int(att.sum())
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, INST_STEPS, INST_LR, warmup=20)
        loss = model(input_ids=x, attention_mask=att, labels=y).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
        if step % 10 == 0 or step == INST_STEPS - 1:
            log(f"[instruct] step {step}/{INST_STEPS} loss {loss.item():.3f} ema {ema:.3f} ({time.time() - t0:.0f} s)")
    timings["instruct"] = {"steps": INST_STEPS, "batch": INST_BATCH, "lr": INST_LR, "examples": len(enc),
                           "tokens": ntok, "seconds": round(time.time() - t0, 1),
                           "cpu_seconds": round(time.process_time() - c0, 1),
                           "final_train_loss_ema": round(ema, 4),
                           "tasks": "copy 60% (sentences 45%, paragraphs ≤ 320 chars 40%, random word sequences 15%), "
                                    "first/last word 12%, 4-way word choice 8%, continue a sentence 20%; EN/RU 50/50; "
                                    "loss on assistant turns only"}
    save_bf16(model, inst_dir)
    write_tokenizer(tok, inst_dir, extra_specials=[IM_START, IM_END], eos=IM_END, chat_template=CHAT_TEMPLATE)
    bos = tok.token_to_id(BOS)
    json.dump({"bos_token_id": bos, "eos_token_id": [tok.token_to_id(IM_END), tok.token_to_id(EOS)]},
              open(os.path.join(inst_dir, "generation_config.json"), "w"), indent=2)
    json.dump(timings, open(TIMINGS, "w"), indent=2)


# ---------------------------------------------------------------- stage: check (printed only)

def copy_score(ref, pred):
    sm = difflib.SequenceMatcher(None, ref, pred, autojunk=False)
    matched = sum(b.size for b in sm.get_matching_blocks())
    return matched / max(len(ref), len(pred), 1)


def stage_check(model_dir=None, n=10):
    model_dir = model_dir or os.path.join(OUT, "instruct")
    _, en_hold, _, ru_hold = splits()
    hf = transformers.PreTrainedTokenizerFast.from_pretrained(model_dir)
    model = transformers.LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    eos = [hf.convert_tokens_to_ids(IM_END)]
    rng = random.Random(SEED + 11)
    res = {}
    for lang, t in (("en", en_hold), ("ru", "\n".join(ru_hold.values()))):
        T = EN_TASKS if lang == "en" else RU_TASKS
        items = rng.sample(sentences(t, 40, 200), n // 2) + rng.sample(paragraphs(t, 150, 350), n // 2)
        ok, ended = 0, 0
        for it in items:
            p = hf.apply_chat_template([{"role": "user", "content": T["copy"][0].format(t=it)}],
                                       add_generation_prompt=True, tokenize=False)
            ids = hf(p, add_special_tokens=False, return_tensors="pt").input_ids
            with torch.no_grad():
                g = model.generate(ids, max_new_tokens=int(1.5 * len(hf(it).input_ids)) + 8, do_sample=False,
                                   eos_token_id=eos, pad_token_id=eos[0])
            out = g[0, ids.shape[1]:].tolist()
            ended += int(bool(out) and out[-1] == eos[0])
            pred = hf.decode(out, skip_special_tokens=True)
            sc = copy_score(it, pred)
            ok += int(sc >= 0.99)
            if sc < 0.99:
                log(f"  [{lang}] {sc:.2f} ref={it[:80]!r}\n          pred={pred[:80]!r}")
        res[lang] = {"copy99": ok / len(items), "ended": ended / len(items), "n": len(items)}
    log("check:", model_dir, res)
    return res


# ---------------------------------------------------------------- stage: donor text and donor

def stage_donor_text(path, fresh_per_text=None):
    """Russian training text for the donor: the train part of every Russian text with recurring spans
    (`repeat_corpus`), plus `fresh_per_text` documents per text that are a fresh span twice ("W\n\nW": a random
    word sequence, or a paragraph's words reversed), shuffled. Only the embeddings are trained, so the text
    itself cannot teach the body to copy; the fresh repeats make the new rows work with the base's induction
    heads (with `repeat_corpus` alone the donor's held-out repeat loss stayed at 2.2 nats vs the base's 0.3)."""
    fresh_per_text = DONOR_FRESH_SPANS if fresh_per_text is None else fresh_per_text
    _, _, ru_train, _ = splits()
    rng = random.Random(SEED + 12)
    docs = []
    for t in ru_train.values():
        docs.append(repeat_corpus(t, rng))
        ws = words(t)
        vocab = sorted(set(ws))
        paras = paragraphs(t, 20, 600)
        sents = sentences(t, 20, 200)
        for _ in range(fresh_per_text):
            if NATURAL_SHARE and rng.random() < NATURAL_SHARE:
                w = rng.choice(sents) if rng.random() < 0.5 else rng.choice(paras)[:320]
            elif rng.random() < 0.5:
                w = random_words(rng, vocab, ws)
            else:
                w = " ".join(rng.choice(paras).split()[::-1][:40])
            docs.append(w + "\n\n" + w)
    rng.shuffle(docs)
    text = "\n\n".join(docs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    log("donor text:", path, len(text), "characters")


def stage_record_donor(seconds):
    """Copies the summary of scripts/train_embeddings.py's provenance (fixtures/toy/donor/
    lep_train_embeddings.json) into the timings, with the wall time make_toy.sh measured."""
    timings = json.load(open(TIMINGS))
    prov = json.load(open(os.path.join(OUT, "donor", "lep_train_embeddings.json")))
    timings["donor"] = {"trainer": prov["tool"], "settings": prov["settings"], "loss": prov["loss"],
                        "tokens_trained": prov["tokens_trained"], "train_tokens": prov["texts"][0]["train_tokens"],
                        "train_seconds": prov["train_seconds"], "seconds": round(seconds, 1),
                        "text": "donor-text stage: Russian train text with recurring spans (work folder, not committed)"}
    json.dump(timings, open(TIMINGS, "w"), indent=2)


def stage_manifest(total_seconds, extra_json=None):
    timings = json.load(open(TIMINGS))
    if extra_json and os.path.exists(extra_json):
        timings.update(json.load(open(extra_json)))
    total_cpu_seconds = sum(v.get("cpu_seconds", 0) for v in timings.values() if isinstance(v, dict))
    files = {}
    for dp, _, fs in sorted(os.walk(OUT)):
        for f in sorted(fs):
            p = os.path.join(dp, f)
            rel = os.path.relpath(p, OUT)
            if rel != "MANIFEST.json":
                files[rel] = sha(p)
    man = {
        "generator": "scripts/toy/make_toy.sh (scripts/toy/train_toy.py, lep vocab build/init, scripts/train_embeddings.py)",
        "seed": SEED,
        "torch_threads": THREADS,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "sentencepiece": spm.__version__, "safetensors": safetensors.__version__, "numpy": np.__version__},
        "training_texts": "../shared/realdata/text/en/tinyshakespeare.txt, ../shared/realdata/text/ru/*.txt "
                          "(last 5 % of each held out for holdout_nll and the copy check; texts are not in the repository)",
        "models": {
            "architecture": f"LlamaForCausalLM, hidden {HIDDEN}, {LAYERS} layers, {HEADS} heads / {KV_HEADS} kv heads, "
                            f"ffn {FFN}, untied embeddings (embed_tokens and lm_head), bf16 on disk",
            "base": "old tokenizer (byte-level BPE 2048); induction curriculum (fresh repeated spans, loss on the repeat), "
                    "then pre-trained on English + Russian text with fresh recurring spans (copying in context)",
            "instruct": "base + <|im_start|>/<|im_end|> (ids 2048, 2049), ChatML chat_template, gentle full fine-tune "
                        "(lower LR, fewer steps than the base) on generated EN/RU chats, loss on assistant turns",
            "ru_spm": "new Russian SentencePiece BPE (2048 pieces, byte fallback, identity normalisation)",
            "donor": "lep vocab build --mode replace + lep vocab init of base, then only embed_tokens/lm_head trained "
                     "on Russian text with recurring and fresh repeated spans",
        },
        "training": timings,
        "total_wall_seconds": round(total_seconds, 1),
        "training_cpu_seconds": round(total_cpu_seconds, 1),
        "note": f"{THREADS} torch threads; wall time includes contention with other processes on a shared 2-core machine",
        "files": files,
    }
    json.dump(man, open(os.path.join(OUT, "MANIFEST.json"), "w"), indent=2, ensure_ascii=False)
    log("manifest:", len(files), "files")


if __name__ == "__main__":
    stage = sys.argv[1] if len(sys.argv) > 1 else ""
    if stage == "tokenizers":
        stage_tokenizers()
    elif stage == "base":
        stage_base()
    elif stage == "instruct":
        stage_instruct()
    elif stage == "check":
        stage_check(sys.argv[2] if len(sys.argv) > 2 else None)
    elif stage == "donor-text":
        stage_donor_text(sys.argv[2])
    elif stage == "record-donor":
        stage_record_donor(float(sys.argv[2]))
    elif stage == "manifest":
        stage_manifest(float(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(f"unknown stage {stage!r}: tokenizers | base | instruct | check [DIR] | donor-text FILE | "
                 "donor INIT_DIR TEXT | record-donor SECONDS | manifest SECONDS [EXTRA_JSON]")
