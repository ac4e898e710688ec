#!/usr/bin/env python3
"""The LEP paper's experiment in miniature: tiny *trained* models for `make demo`.

Stages (run in order by scripts/toy/make_toy.sh; each is deterministic on CPU, torch.set_num_threads(1)):
  base     old tokenizer (byte-level BPE, 2048 ids, LLaMA-3 split regex, mostly English + some Russian),
           base LlamaForCausalLM (untied) trained on English + Russian text,
           instruct model (base + ChatML specials <|im_start|>/<|im_end|>, chat_template) fine-tuned on
           generated EN/RU instructions (copy / answer a question / continue), loss on assistant turns only,
           new Russian tokenizer (SentencePiece BPE, 2048 pieces, byte fallback).
  donor    after `lep vocab build --mode replace` + `lep vocab init` (run by make_toy.sh): trains ONLY
           model.embed_tokens and lm_head of the initialised donor on Russian text (everything else frozen,
           and written back bit-identical to the base).
  manifest fixtures/toy/MANIFEST.json (sha256 of every committed file, versions, seeds, timings).

Training texts come from ../shared/realdata/text (read only, never copied into the repository).
"""
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

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import safetensors.torch  # noqa: E402
import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(os.path.abspath(os.environ.get("LEP_REALDATA") or os.path.join(ROOT, "..", "shared", "realdata")), "text")
OUT = os.path.join(ROOT, "fixtures", "toy")
WORK = os.path.join(ROOT, ".build-toy", "toy-work")  # scratch, git-ignored (.build-*/)
TIMINGS = os.path.join(WORK, "timings.json")

SEED = 20241230
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
BOS, EOS, IM_START, IM_END = "<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}"
                 "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
                 "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

# Model and training sizes (chosen to fit ~20 minutes on one shared CPU core in total).
HIDDEN, LAYERS, HEADS, KV_HEADS, FFN = 128, 4, 4, 2, 384
OLD_VOCAB, NEW_VOCAB = 2048, 2048
BASE_STEPS, BASE_BATCH, BASE_SEQ, BASE_LR = int(os.environ.get("TOY_BASE_STEPS", 300)), 16, 128, 3e-3
INST_STEPS, INST_BATCH, INST_LR = int(os.environ.get("TOY_INST_STEPS", 400)), 16, 2e-3
INST_MAXLEN = 224
DONOR_STEPS, DONOR_BATCH, DONOR_SEQ, DONOR_LR = int(os.environ.get("TOY_DONOR_STEPS", 250)), 16, 128, 3e-3


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
    """Last `frac` of a text (cut at a paragraph) is held out for the loss printed in the manifest."""
    cut = text.rfind("\n", 0, int(len(text) * (1 - frac)))
    return text[:cut], text[cut:]


def paragraphs(text, lo=40, hi=300):
    """Paragraph-sized pieces of running text (for the generated instructions)."""
    text = text.replace("\r", "")
    parts = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
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


def llama_config(vocab):
    return transformers.LlamaConfig(
        vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=1024,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        bos_token_id=OLD_VOCAB - 2, eos_token_id=OLD_VOCAB - 1, torch_dtype="bfloat16")


def cosine_lr(step, total, peak, warmup=30):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def save_bf16(model, d):
    model.to(torch.bfloat16).save_pretrained(d)
    model.float()


def eval_loss(model, stream, seq, bos_id, n=16):
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


def lm_train(model, params, streams, weights, steps, batch, seq, lr, bos_id, tag, holdout=None):
    """Causal LM training on random windows drawn from token streams (window = BOS + seq-1 tokens)."""
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    rng = np.random.default_rng(SEED + len(tag))
    t0, c0 = time.time(), time.process_time()
    model.train()
    for step in range(steps):
        rows = []
        for _ in range(batch):
            s = streams[rng.choice(len(streams), p=weights)]
            i = int(rng.integers(0, len(s) - seq))
            rows.append([bos_id] + s[i:i + seq - 1])
        x = torch.tensor(rows)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, lr)
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            log(f"[{tag}] step {step}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f} s)")
    res = {"steps": steps, "batch": batch, "seq": seq, "lr": lr, "seconds": round(time.time() - t0, 1),
           "cpu_seconds": round(time.process_time() - c0, 1), "final_train_loss": round(loss.item(), 4)}
    if holdout:
        res["holdout_nll"] = {k: round(eval_loss(model, v, seq, bos_id), 4) for k, v in holdout.items()}
    return res


# ---------------------------------------------------------------- stage: base (+ instruct, new tokenizer)

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


def words(t):
    return re.findall(r"\w+", t)


def make_instructions(paras, lang, n, rng):
    """n chat examples [(messages)] from paragraphs of one language: copy (55 %), first/last word (15 %),
    four-way word choice with an `Answer:` prefix (15 %), continuation (15 %)."""
    T = EN_TASKS if lang == "en" else RU_TASKS
    vocab = sorted({w for p in paras for w in words(p) if len(w) > 3})
    out = []
    for _ in range(n):
        p = rng.choice(paras)
        r = rng.random()
        if r < 0.55:
            user, ans = rng.choice(T["copy"]).format(t=p), p
        elif r < 0.7:
            w = words(p)
            if not w:
                continue
            key = "first" if rng.random() < 0.5 else "last"
            user, ans = T[key].format(t=p), (w[0] if key == "first" else w[-1])
        elif r < 0.85:
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
            w = p.split(" ")
            if len(w) < 8:
                continue
            cut = len(w) // 2
            user, ans = T["continue"].format(t=" ".join(w[:cut])), " ".join(w[cut:])
        msgs = ([{"role": "system", "content": T["system"]}] if rng.random() < 0.3 else [])
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


def stage_base():
    os.makedirs(WORK, exist_ok=True)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    timings = {}
    seed_all(SEED)
    en, ru = texts()
    en_train, en_hold = split_holdout(en)
    ru_train, ru_hold = {}, {}
    for k, v in ru.items():
        ru_train[k], ru_hold[k] = split_holdout(v)
    ru_all = "\n".join(ru_train.values())
    ru_hold_all = "\n".join(ru_hold.values())

    t0 = time.time()
    tok, mix = train_old_tokenizer(en_train, ru_all)
    base_dir, inst_dir = os.path.join(OUT, "base"), os.path.join(OUT, "instruct")
    timings["old_tokenizer"] = {"seconds": round(time.time() - t0, 1), **mix}
    log("old tokenizer:", tok.get_vocab_size(), "ids", timings["old_tokenizer"])

    en_ids = tok.encode(en_train, add_special_tokens=False).ids
    ru_ids = tok.encode(ru_all, add_special_tokens=False).ids
    hold = {"en": tok.encode(en_hold, add_special_tokens=False).ids,
            "ru": tok.encode(ru_hold_all, add_special_tokens=False).ids}
    timings["old_tokenizer"]["train_tokens"] = {"en": len(en_ids), "ru": len(ru_ids)}
    timings["old_tokenizer"]["ru_chars_per_token"] = round(len(ru_all) / len(ru_ids), 3)
    timings["old_tokenizer"]["en_chars_per_token"] = round(len(en_train) / len(en_ids), 3)
    log("tokens: en", len(en_ids), "ru", len(ru_ids))

    # ---- base: English + Russian, 60/40 by windows (Russian is the smaller corpus but must be learned)
    seed_all(SEED + 1)
    cfg = llama_config(OLD_VOCAB)
    model = transformers.LlamaForCausalLM(cfg).float()
    bos = tok.token_to_id(BOS)
    timings["base"] = lm_train(model, list(model.parameters()), [en_ids, ru_ids], [0.6, 0.4], BASE_STEPS,
                               BASE_BATCH, BASE_SEQ, BASE_LR, bos, "base", hold)
    save_bf16(model, base_dir)
    write_tokenizer(tok, base_dir)
    json.dump({"bos_token_id": bos, "eos_token_id": tok.token_to_id(EOS)},
              open(os.path.join(base_dir, "generation_config.json"), "w"), indent=2)

    # ---- instruct: base (as committed, bf16) + two ChatML specials, full fine-tune on generated chats
    seed_all(SEED + 2)
    tok.add_special_tokens([IM_START, IM_END])
    assert tok.token_to_id(IM_START) == OLD_VOCAB and tok.token_to_id(IM_END) == OLD_VOCAB + 1
    model = transformers.LlamaForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model.resize_token_embeddings(OLD_VOCAB + 2, mean_resizing=True)
    model.config.eos_token_id = [tok.token_to_id(IM_END), tok.token_to_id(EOS)]
    rng = random.Random(SEED + 3)
    en_p = paragraphs(en_train, 20, 160)
    ru_p = [p for t in ru_train.values() for p in paragraphs(t, 20, 160)]
    chats = make_instructions(en_p, "en", 3000, rng) + make_instructions(ru_p, "ru", 3000, rng)
    rng.shuffle(chats)
    enc = [encode_chat(tok, c) for c in chats]
    enc = [e for e in enc if len(e[0]) <= INST_MAXLEN]
    log("instruct examples:", len(enc), "mean tokens", np.mean([len(e[0]) for e in enc]))
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=INST_LR, betas=(0.9, 0.95), weight_decay=0.0)
    t0, c0 = time.time(), time.process_time()
    model.train()
    order = list(range(len(enc)))
    pos = 0
    for step in range(INST_STEPS):
        batch = []
        for _ in range(INST_BATCH):
            if pos == len(order):
                rng.shuffle(order)
                pos = 0
            batch.append(enc[order[pos]])
            pos += 1
        L = max(len(b[0]) for b in batch)
        pad = tok.token_to_id(EOS)
        x = torch.tensor([b[0] + [pad] * (L - len(b[0])) for b in batch])
        y = torch.tensor([[t if m else -100 for t, m in zip(b[0], b[1])] + [-100] * (L - len(b[0])) for b in batch])
        att = torch.tensor([[1] * len(b[0]) + [0] * (L - len(b[0])) for b in batch])
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, INST_STEPS, INST_LR)
        loss = model(input_ids=x, attention_mask=att, labels=y).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 25 == 0 or step == INST_STEPS - 1:
            log(f"[instruct] step {step}/{INST_STEPS} loss {loss.item():.3f} ({time.time() - t0:.0f} s)")
    timings["instruct"] = {"steps": INST_STEPS, "batch": INST_BATCH, "lr": INST_LR, "examples": len(enc),
                           "seconds": round(time.time() - t0, 1), "cpu_seconds": round(time.process_time() - c0, 1),
                           "final_train_loss": round(loss.item(), 4), "tasks": "copy 55%, first/last word 15%, 4-way word choice 15%, continue 15%; EN/RU 50/50; texts 20-160 chars"}
    save_bf16(model, inst_dir)
    write_tokenizer(tok, inst_dir, extra_specials=[IM_START, IM_END], eos=IM_END, chat_template=CHAT_TEMPLATE)
    json.dump({"bos_token_id": bos, "eos_token_id": [tok.token_to_id(IM_END), tok.token_to_id(EOS)]},
              open(os.path.join(inst_dir, "generation_config.json"), "w"), indent=2)
    # quick greedy sanity sample (printed only)
    hf = transformers.PreTrainedTokenizerFast.from_pretrained(inst_dir)
    for msg in ["Repeat the following text exactly, without changing or adding anything:\n\nThe king is dead.",
                "Повтори следующий текст в точности, ничего не меняя и ничего не добавляя:\n\nДом стоял у реки."]:
        p = hf.apply_chat_template([{"role": "user", "content": msg}], add_generation_prompt=True, tokenize=False)
        ids = hf(p, add_special_tokens=False, return_tensors="pt").input_ids
        g = model.generate(ids, max_new_tokens=30, do_sample=False, eos_token_id=model.config.eos_token_id)
        log("sample:", repr(hf.decode(g[0, ids.shape[1]:])))

    # ---- new Russian tokenizer: SentencePiece BPE, byte fallback, Russian + a little English (≈ 10 %)
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


# ---------------------------------------------------------------- stage: donor

def stage_donor(init_dir):
    """Trains only embed_tokens and lm_head of `init_dir` (lep vocab init output) on Russian text."""
    timings = json.load(open(TIMINGS))
    seed_all(SEED + 5)
    _, ru = texts()
    ru_train, ru_hold = {}, {}
    for k, v in ru.items():
        ru_train[k], ru_hold[k] = split_holdout(v)
    tok = Tokenizer.from_file(os.path.join(init_dir, "tokenizer.json"))
    ru_ids = tok.encode("\n".join(ru_train.values()), add_special_tokens=False).ids
    hold = {"ru": tok.encode("\n".join(ru_hold.values()), add_special_tokens=False).ids}
    sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "ru_spm", "tokenizer.model"))
    probe = "Станция стояла посреди степи, и поезда останавливались на ней всего на две минуты."
    assert tok.encode(probe, add_special_tokens=False).ids == sp.encode(probe), "lep's tokenizer.json != spm"
    model = transformers.LlamaForCausalLM.from_pretrained(init_dir, dtype=torch.float32)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if "embed_tokens" not in k and "lm_head" not in k}
    for n, p in model.named_parameters():
        p.requires_grad = ("embed_tokens" in n) or ("lm_head" in n)
    params = [p for p in model.parameters() if p.requires_grad]
    assert len(params) == 2, [n for n, p in model.named_parameters() if p.requires_grad]
    bos = tok.token_to_id(BOS)
    before = {"ru": round(eval_loss(model, hold["ru"], DONOR_SEQ, bos), 4)}
    res = lm_train(model, params, [ru_ids], [1.0], DONOR_STEPS, DONOR_BATCH, DONOR_SEQ, DONOR_LR, bos, "donor", hold)
    res["holdout_nll_before"] = before
    res["train_tokens"] = len(ru_ids)
    for k, v in model.state_dict().items():
        if k in frozen:
            assert torch.equal(v, frozen[k]), k
    donor = os.path.join(OUT, "donor")
    if os.path.isdir(donor):
        shutil.rmtree(donor)
    shutil.copytree(init_dir, donor)
    for f in os.listdir(donor):
        if f.endswith(".safetensors") or f.endswith(".index.json") or f == "lep_vocab_init.json":
            os.remove(os.path.join(donor, f))
    save_bf16(model, donor)
    timings["donor"] = res
    json.dump(timings, open(TIMINGS, "w"), indent=2)


def stage_manifest(total_seconds):
    timings = json.load(open(TIMINGS))
    total_cpu_seconds = sum(v.get("cpu_seconds", 0) for v in timings.values() if isinstance(v, dict))
    files = {}
    for dp, _, fs in sorted(os.walk(OUT)):
        for f in sorted(fs):
            p = os.path.join(dp, f)
            rel = os.path.relpath(p, OUT)
            if rel != "MANIFEST.json":
                files[rel] = sha(p)
    man = {
        "generator": "scripts/toy/make_toy.sh (scripts/toy/train_toy.py, lep vocab build/init)",
        "seed": SEED,
        "torch_threads": 1,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "sentencepiece": spm.__version__, "safetensors": safetensors.__version__, "numpy": np.__version__},
        "training_texts": "../shared/realdata/text/en/tinyshakespeare.txt, ../shared/realdata/text/ru/*.txt "
                          "(last 5 % of each held out for holdout_nll; texts are not in the repository)",
        "models": {
            "architecture": f"LlamaForCausalLM, hidden {HIDDEN}, {LAYERS} layers, {HEADS} heads / {KV_HEADS} kv heads, "
                            f"ffn {FFN}, untied embeddings (embed_tokens and lm_head), bf16 on disk",
            "base": "old tokenizer (byte-level BPE 2048), trained on English + Russian",
            "instruct": "base + <|im_start|>/<|im_end|> (ids 2048, 2049), ChatML chat_template, full fine-tune on generated EN/RU chats",
            "ru_spm": "new Russian SentencePiece BPE (2048 pieces, byte fallback, identity normalisation)",
            "donor": "lep vocab build --mode replace + lep vocab init of base, then only embed_tokens/lm_head trained on Russian",
        },
        "training": timings,
        "total_wall_seconds": round(total_seconds, 1),
        "training_cpu_seconds": round(total_cpu_seconds, 1),
        "note": "one torch thread; wall time includes contention with other processes on a shared 2-core machine",
        "files": files,
    }
    json.dump(man, open(os.path.join(OUT, "MANIFEST.json"), "w"), indent=2, ensure_ascii=False)
    log("manifest:", len(files), "files")


if __name__ == "__main__":
    stage = sys.argv[1]
    if stage == "base":
        stage_base()
    elif stage == "donor":
        stage_donor(sys.argv[2])
    elif stage == "manifest":
        stage_manifest(float(sys.argv[2]))
    else:
        sys.exit(f"unknown stage {stage}")
