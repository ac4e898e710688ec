#!/usr/bin/env python3
"""Where does a propagated toy model lose its copying? Two probes, run with transformers on any model folders:

  raw   "S\\n\\nS" for held-out Russian sentences S: teacher-forced top-1 accuracy and NLL per character of the
        second occurrence (the in-context copying of the body and its embeddings, no chat, no instruction);
  chat  greedy chat replies to a copy request (models with a chat template only), copy99 (difflib ratio
        ≥ 0.99, as lep eval) for three prompts: the instruction the toy instruct model was trained on, a
        phrasing it never saw, and the bare text.

  python scripts/toy/probe_copy.py fixtures/toy/base fixtures/toy/donor fixtures/toy/instruct demo-output/lep-conversion

Held-out text as in train_toy.py (last 5 % of each Russian text of ../shared/realdata/text, or LEP_REALDATA).
Prints one line per model and probe. Deterministic (greedy, fixed sample seeds, one thread).
"""
import difflib
import os
import random
import sys

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_toy as T  # noqa: E402  (held-out split and sentence splitter of the toy recipe)

PROMPTS = {
    "trained": T.RU_TASKS["copy"][0],
    "unseen": "Напиши ещё раз то же самое:\n\n{t}",
    "bare": "{t}",
}


def held_out_sentences(n, lo, hi, seed):
    _, _, _, ru_hold = T.splits()
    pool = []
    for t in ru_hold.values():
        pool += T.sentences(t, lo, hi)
    return random.Random(seed).sample(pool, min(n, len(pool)))


def raw_probe(model, tok, sents):
    ok = tot = 0
    nll = 0.0
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    for s in sents:
        a = tok(s + "\n\n", add_special_tokens=False).input_ids
        b = tok(s, add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([bos + a + b])).logits[0]
        start = len(bos) + len(a)
        pred = logits[start - 1:-1]
        ok += sum(int(p == y) for p, y in zip(pred.argmax(-1).tolist(), b))
        tot += len(b)
        nll += torch.nn.functional.cross_entropy(pred, torch.tensor(b), reduction="sum").item()
    return ok / tot, nll / sum(len(s) for s in sents)


def chat_probe(model, tok, sents):
    end = tok.convert_tokens_to_ids("<|im_end|>")
    out = {}
    for name, prompt in PROMPTS.items():
        good = 0
        for s in sents:
            ids = tok.apply_chat_template([{"role": "user", "content": prompt.format(t=s)}],
                                          add_generation_prompt=True, tokenize=True, return_dict=False)
            budget = len(tok(s, add_special_tokens=False).input_ids) * 3 // 2 + 8
            gen = model.generate(torch.tensor([ids]), max_new_tokens=budget, do_sample=False,
                                 eos_token_id=end, pad_token_id=end)
            reply = tok.decode(gen[0, len(ids):], skip_special_tokens=True).strip()
            good += difflib.SequenceMatcher(None, s, reply, autojunk=False).ratio() >= 0.99
        out[name] = good / len(sents)
    return out


def main(dirs):
    if not dirs:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    raw_sents = held_out_sentences(60, 40, 200, 5)
    chat_sents = held_out_sentences(40, 40, 160, 7)
    for d in dirs:
        model = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
        tok = transformers.AutoTokenizer.from_pretrained(d)
        acc, nll = raw_probe(model, tok, raw_sents)
        print(f"{d}: raw second occurrence, {len(raw_sents)} sentences: top-1 {acc:.3f}, NLL {nll:.3f} nats/char", flush=True)
        if tok.chat_template:
            res = chat_probe(model, tok, chat_sents)
            print(f"{d}: chat copy99, {len(chat_sents)} sentences: " + ", ".join(f"{k} {v:.3f}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
