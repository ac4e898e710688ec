"""Tests of scripts/train_embeddings.py (run by `make test-python`, which makes the pinned virtual environment).

The fixture models are made here: tiny LlamaForCausalLM checkpoints (hidden 32, 2 layers, bf16) that carry the
toy donor's Russian SentencePiece tokenizer (fixtures/toy/donor; V ids, as many rows), so they look like `lep vocab init`
output. Every check compares files byte for byte; nothing is compared with the script's own earlier output.
"""
import contextlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import train_embeddings as te  # noqa: E402

TOY_TOKENIZER = os.path.join(ROOT, "fixtures", "toy", "donor")
TOY_OLD_TOKENIZER = os.path.join(ROOT, "fixtures", "toy", "base")
SCRIPT = os.path.join(ROOT, "scripts", "train_embeddings.py")

# Original Russian text written for this test (no outside source).
TEXT = """Утром над рекой стоял густой туман, и лодки у причала казались серыми тенями. Старый рыбак вышел из дома,
посмотрел на небо и сказал внуку, что к полудню туман рассеется, а ветер переменится на южный.

Внук собрал сети, положил в корзину хлеб, сыр и бутылку воды. Они спустились к воде по узкой тропинке,
где каждый камень был знаком им с детства. Рыбак говорил мало, но внук любил эти тихие утренние часы.

Когда лодка отошла от берега, солнце уже пробивалось сквозь туман. Вода была спокойной и тёмной.
Дед показал внуку, как правильно забрасывать сеть, чтобы она ложилась ровно и не путалась.

К обеду они вернулись с хорошим уловом. Бабушка встретила их на крыльце, улыбнулась и сказала,
что сварит уху. Вечером вся семья сидела за столом, и дед рассказывал истории о старых временах.
"""


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w", **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
        f.write(data)


def tensor_ranges(path):
    """name -> (absolute begin, end) of every tensor's bytes, and the header bytes."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header_bytes = f.read(n)
    header = json.loads(header_bytes)
    return {k: (8 + n + v["data_offsets"][0], 8 + n + v["data_offsets"][1])
            for k, v in header.items() if k != "__metadata__"}, header_bytes, header


def toy_vocab_size():
    """V: the number of ids of the toy donor's tokenizer (added tokens included)."""
    import transformers
    return len(transformers.AutoTokenizer.from_pretrained(TOY_TOKENIZER))


def make_model(d, tied=False, vocab=None, shard=None, tokenizer=True, seed=0):
    """A tiny bf16 llama checkpoint in `d` (V rows unless `vocab`) with the toy donor's tokenizer files."""
    import torch
    import transformers
    vocab = vocab or toy_vocab_size()
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(seed)
    cfg = transformers.LlamaConfig(
        vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=256, tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2)
    model = transformers.LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(d, **({"max_shard_size": shard} if shard else {}))
    if tokenizer:
        for f in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copyfile(os.path.join(TOY_TOKENIZER, f), os.path.join(d, f))
    return d


def lep_binary():
    for p in (os.environ.get("LEP_BIN"), os.path.join(ROOT, ".build", "debug", "lep"),
              os.path.join(ROOT, ".build", "release", "lep")):
        if p and os.access(p, os.X_OK):
            return p
    return None


class TrainEmbeddingsTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lep-train-test-")
        cls.text = os.path.join(cls.tmp, "ru.txt")
        with open(cls.text, "w", encoding="utf-8") as f:
            f.write(TEXT * 6)
        cls.V = toy_vocab_size()
        cls.untied = make_model(os.path.join(cls.tmp, "untied"))
        cls.tied = make_model(os.path.join(cls.tmp, "tied"), tied=True, seed=1)
        cls.sharded = make_model(os.path.join(cls.tmp, "sharded"), shard="150KB", seed=2)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def train(self, model, out, *extra, expect=0):
        """Runs the script in-process; returns (exit status, stdout, stderr)."""
        args = [model, "--text", self.text, "-o", out, "--max-steps", "30", "--seq-len", "32", "--batch", "4",
                "--lr", "1e-2", "--seed", "7", "--threads", "1", *extra]
        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            try:
                rc = te.main(args)
            except SystemExit as x:
                rc = x.code
        self.assertEqual(rc, expect, f"exit status {rc}\nstdout:\n{o.getvalue()}\nstderr:\n{e.getvalue()}")
        return rc, o.getvalue(), e.getvalue()

    def out(self, name):
        return os.path.join(self.tmp, name)

    def assert_only_embeddings_changed(self, src, dst, trained):
        """Every file of src is in dst; safetensors files differ only inside the trained tensors' bytes."""
        changed = set()
        for f in sorted(os.listdir(src)):
            a, b = read(os.path.join(src, f)), read(os.path.join(dst, f))
            if not f.endswith(".safetensors"):
                self.assertEqual(a, b, f"{f} changed")
                continue
            self.assertEqual(len(a), len(b), f)
            ranges, ha, _ = tensor_ranges(os.path.join(src, f))
            _, hb, _ = tensor_ranges(os.path.join(dst, f))
            self.assertEqual(ha, hb, f"{f}: header changed")
            ma, mb = bytearray(a), bytearray(b)
            for name, (s, e) in ranges.items():
                if name in trained:
                    if a[s:e] != b[s:e]:
                        changed.add(name)
                    ma[s:e] = bytes(e - s)
                    mb[s:e] = bytes(e - s)
                else:
                    self.assertEqual(a[s:e], b[s:e], f"{f}: {name} changed")
            self.assertEqual(bytes(ma), bytes(mb), f"{f}: bytes outside the tensors changed")
        self.assertEqual(changed, set(trained), "every trained tensor must change")

    def provenance(self, d):
        return te.load_json(os.path.join(d, te.PROVENANCE))

    # ---------------------------------------------------------------------------------------- training

    def test_untied_training_lowers_loss_and_changes_only_embeddings(self):
        out = self.out("out-untied")
        _, log, _ = self.train(self.untied, out)
        p = self.provenance(out)
        self.assertLess(p["loss"]["train_after"], p["loss"]["train_before"] - 0.5, p["loss"])
        self.assertLess(p["loss"]["holdout_after"], p["loss"]["holdout_before"], p["loss"])
        self.assertIn("tokens/s", log)
        self.assertIn("held-out loss:", log)
        self.assert_only_embeddings_changed(self.untied, out, {te.EMBED, te.HEAD})
        self.assertFalse([f for f in os.listdir(self.tmp) if ".tmp-" in f], "temporary directory left behind")

        # Loads in transformers, in the input's dtype, and runs.
        import torch
        import transformers
        m = transformers.AutoModelForCausalLM.from_pretrained(out)
        self.assertEqual(m.model.embed_tokens.weight.dtype, torch.bfloat16)
        tok = transformers.AutoTokenizer.from_pretrained(out)
        ids = tok("Утром над рекой стоял туман.", return_tensors="pt")["input_ids"]
        with torch.no_grad():
            logits = m(input_ids=ids).logits
        self.assertTrue(torch.isfinite(logits.float()).all())

    def test_bfloat16_compute_keeps_float32_rows(self):
        """--dtype bfloat16 (the default on CUDA for bf16 checkpoints) runs the frozen model in bf16 and keeps
        float32 master rows; the result is still written in the checkpoint's dtype with only embeddings changed."""
        out = self.out("out-bf16")
        _, log, _ = self.train(self.untied, out, "--dtype", "bfloat16")
        self.assertIn("compute bfloat16", log)
        p = self.provenance(out)
        self.assertLess(p["loss"]["train_after"], p["loss"]["train_before"] - 0.5, p["loss"])
        self.assert_only_embeddings_changed(self.untied, out, {te.EMBED, te.HEAD})

    def test_output_loads_in_lep(self):
        lep = lep_binary()
        if lep is None:
            self.skipTest("SKIPPED: no lep binary (set LEP_BIN or run `swift build`); lep inspect not checked")
        out = self.out("out-lep")
        self.train(self.untied, out)
        r = subprocess.run([lep, "inspect", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("problems:      none", r.stdout)
        self.assertIn(f"embeddings:    {self.V} rows", r.stdout)

    def test_lep_pipeline_runs_the_trainer(self):
        """vocab_init → external command (this script) → propagate, through `lep pipeline`, on the toy models."""
        lep = lep_binary()
        if lep is None:
            self.skipTest("SKIPPED: no lep binary (set LEP_BIN or run `swift build`); lep pipeline not checked")
        toy = os.path.join(ROOT, "fixtures", "toy")
        work = os.path.join(self.tmp, "pipeline")
        os.mkdir(work)
        pipeline = {
            "lep_pipeline": 1,
            "variables": {"TOY": toy, "WORK": work, "TEXT": self.text, "PYTHON": sys.executable, "TRAINER": SCRIPT},
            "steps": [
                {"name": "init", "type": "vocab_init", "model": "${TOY}/base", "tokenizer": "${TOY}/donor",
                 "output": "${WORK}/init"},
                {"name": "train", "type": "external", "output": "${WORK}/donor",
                 "command": ["${PYTHON}", "${TRAINER}", "${steps.init.output}", "--text", "${TEXT}", "-o", "${WORK}/donor",
                             "--max-steps", "3", "--seq-len", "32", "--batch", "2", "--threads", "1"]},
                {"name": "propagate", "type": "propagate", "base": "${TOY}/base", "instruct": "${TOY}/instruct",
                 "donor": "${steps.train.output}", "output": "${WORK}/out"},
            ]}
        path = os.path.join(work, "pipeline.json")
        write(path, json.dumps(pipeline))
        r = subprocess.run([lep, "pipeline", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("held-out loss:", r.stdout)
        self.assertTrue(os.path.isfile(os.path.join(work, "donor", te.PROVENANCE)))
        self.assertTrue(os.path.isfile(os.path.join(work, "out", "model.safetensors")))
        self.assert_only_embeddings_changed(os.path.join(work, "init"), os.path.join(work, "donor"), {te.EMBED, te.HEAD})

    def test_tied_model_trains_the_shared_matrix(self):
        out = self.out("out-tied")
        self.train(self.tied, out)
        _, _, header = tensor_ranges(os.path.join(self.tied, "model.safetensors"))
        self.assertNotIn(te.HEAD, header)
        p = self.provenance(out)
        self.assertTrue(p["tied"])
        self.assertLess(p["loss"]["train_after"], p["loss"]["train_before"], p["loss"])
        self.assert_only_embeddings_changed(self.tied, out, {te.EMBED})

    def test_sharded_checkpoint(self):
        self.assertTrue(os.path.isfile(os.path.join(self.sharded, "model.safetensors.index.json")))
        out = self.out("out-sharded")
        self.train(self.sharded, out)
        self.assert_only_embeddings_changed(self.sharded, out, {te.EMBED, te.HEAD})

    def test_deterministic_with_seed(self):
        a, b = self.out("det-a"), self.out("det-b")
        self.train(self.untied, a)
        self.train(self.untied, b)
        self.assertEqual(read(os.path.join(a, "model.safetensors")), read(os.path.join(b, "model.safetensors")))

    def test_new_rows_only(self):
        import torch
        from safetensors.torch import load_file
        src = load_file(os.path.join(self.untied, "model.safetensors"))

        def check(out, new_ids):
            dst = load_file(os.path.join(out, "model.safetensors"))
            for name in (te.EMBED, te.HEAD):
                a, b = src[name].view(torch.int16), dst[name].view(torch.int16)
                old = torch.ones(a.shape[0], dtype=torch.bool)
                old[new_ids] = False
                self.assertTrue(torch.equal(a[old], b[old]), f"{name}: old rows changed")
                # lm_head rows all learn through the softmax; embed_tokens rows only where the token occurs.
                changed = int((a[~old] != b[~old]).any(dim=1).sum())
                self.assertGreater(changed, len(new_ids) // 2 if name == te.HEAD else 0, f"{name}: new rows unchanged")

        # --old-rows N: rows >= N.
        out = self.out("new-rows")
        V, old = self.V, self.V * 3 // 4
        _, log, _ = self.train(self.untied, out, "--new-rows-only", "--old-rows", str(old))
        self.assertIn(f"training {V - old} of {V} rows", log)
        check(out, list(range(old, V)))
        self.assertEqual(self.provenance(out)["trained_rows"], V - old)

        # --old-tokenizer: tokens whose string the old (byte-level) vocabulary lacks.
        out = self.out("new-rows-tok")
        self.train(self.untied, out, "--new-rows-only", "--old-tokenizer", os.path.join(TOY_OLD_TOKENIZER, "tokenizer.json"))
        old_vocab = te.load_json(os.path.join(TOY_OLD_TOKENIZER, "tokenizer.json"))["model"]["vocab"]
        new_vocab = te.load_json(os.path.join(TOY_TOKENIZER, "tokenizer.json"))
        new_ids = [i for t, i in new_vocab["model"]["vocab"].items() if t not in old_vocab]
        added_old = {t["content"] for t in te.load_json(os.path.join(TOY_OLD_TOKENIZER, "tokenizer.json"))["added_tokens"]}
        new_ids = sorted(set(new_ids) - {t["id"] for t in new_vocab["added_tokens"] if t["content"] in added_old})
        self.assertGreater(len(new_ids), V // 2)
        self.assertLess(len(new_ids), V)
        check(out, new_ids)

        # lep_vocab_init.json: its base is used when present, else its old_rows.
        d = os.path.join(self.tmp, "with-provenance")
        shutil.copytree(self.untied, d)
        with open(os.path.join(d, te.VOCAB_INIT_PROVENANCE), "w") as f:
            json.dump({"tool": "lep vocab init", "base": os.path.join(self.tmp, "gone"), "old_rows": V - 48,
                       "new_rows": V}, f)
        out = self.out("new-rows-prov")
        _, log, _ = self.train(d, out, "--new-rows-only")
        self.assertIn(f"rows >= {V - 48}", log)
        check(out, list(range(V - 48, V)))
        self.assertTrue(os.path.isfile(os.path.join(out, te.VOCAB_INIT_PROVENANCE)))

    def test_force_replaces_and_refuses_without(self):
        out = self.out("forced")
        os.mkdir(out)
        write(os.path.join(out, "stale.txt"), "x")
        _, _, err = self.train(self.untied, out, expect=1)
        self.assertIn("exists; choose another output or add --force", err)
        self.train(self.untied, out, "--force")
        self.assertFalse(os.path.exists(os.path.join(out, "stale.txt")))
        self.assertTrue(os.path.isfile(os.path.join(out, "model.safetensors")))
        _, _, err = self.train(self.untied, self.untied, "--force", expect=1)
        self.assertIn("must not be MODEL_DIR", err)

    # ---------------------------------------------------------------------------------------- bad input

    def test_bad_inputs(self):
        def bad(model, message, text=None, extra=()):
            args = [model, "--text", text or self.text, "-o", self.out("never"), "--max-steps", "2", "--seq-len", "32",
                    "--threads", "1", *extra]
            o, e = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
                rc = te.main(args)
            self.assertEqual(rc, 1, e.getvalue())
            self.assertIn(message, e.getvalue())
            self.assertFalse(os.path.exists(self.out("never")))

        not_ckpt = os.path.join(self.tmp, "not-a-checkpoint")
        os.makedirs(not_ckpt, exist_ok=True)
        write(os.path.join(not_ckpt, "notes.txt"), "hello")
        bad(not_ckpt, "config.json is missing: MODEL_DIR must be a Hugging Face checkpoint directory")
        bad(os.path.join(self.tmp, "nowhere"), "no such directory")

        no_weights = os.path.join(self.tmp, "no-weights")
        shutil.copytree(self.untied, no_weights)
        os.remove(os.path.join(no_weights, "model.safetensors"))
        bad(no_weights, "no *.safetensors weights")

        corrupt = os.path.join(self.tmp, "corrupt")
        shutil.copytree(self.untied, corrupt)
        with open(os.path.join(corrupt, "model.safetensors"), "r+b") as f:
            f.truncate(1000)
        bad(corrupt, "model.safetensors: not a safetensors file")

        no_tok = os.path.join(self.tmp, "no-tokenizer")
        os.makedirs(no_tok, exist_ok=True)
        make_model(no_tok, tokenizer=False)
        bad(no_tok, "no tokenizer.json or tokenizer.model")

        small = make_model(os.path.join(self.tmp, "small-vocab"), vocab=self.V // 2)
        bad(small, f"the tokenizer has {self.V} ids but model.embed_tokens.weight has only {self.V // 2} rows")

        empty = os.path.join(self.tmp, "empty.txt")
        write(empty, "  \n\n")
        bad(self.untied, f"--text {empty}: empty text", text=empty)
        bad(self.untied, "cannot read", text=os.path.join(self.tmp, "missing.txt"))
        latin1 = os.path.join(self.tmp, "latin1.txt")
        write(latin1, "café".encode("latin-1"))
        bad(self.untied, "not UTF-8 text", text=latin1)
        short = os.path.join(self.tmp, "short.txt")
        write(short, "Утро.")
        bad(self.untied, "too little text", text=short)

        bad(self.untied, "lep_vocab_init.json is missing", extra=("--new-rows-only",))
        bad(self.untied, "there are no rows beyond the old vocabulary", extra=("--new-rows-only", "--old-rows", str(self.V)))

    def test_usage_errors_exit_2(self):
        for extra in (["--seq-len", "1"], ["--max-steps", "0"], ["--holdout", "1.5"], ["--old-rows", "5"]):
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as cm:
                te.main([self.untied, "--text", self.text, "-o", self.out("never"), *extra])
            self.assertEqual(cm.exception.code, 2, extra)

    def test_command_line_exit_status(self):
        r = subprocess.run([sys.executable, SCRIPT, os.path.join(self.tmp, "nowhere"), "--text", self.text,
                            "-o", self.out("never")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stderr.startswith("train_embeddings: error: "), r.stderr)
        r = subprocess.run([sys.executable, SCRIPT, self.untied], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2, r.stderr)


if __name__ == "__main__":
    unittest.main()
