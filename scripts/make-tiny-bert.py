#!/usr/bin/python3
"""Write a tiny BERT-style model directory that transformers.js loads as a BertModel, plus reference
vectors, for the ONNX embedding provider's tests (test/embed/providers/onnx.test.ts).

No `transformers` Python package is available here, so the model is built by hand in torch with
BERT's architecture (word + position + token-type embeddings, LayerNorm, 2 post-LN encoder layers
with 2-head self-attention and erf-GELU), exported with torch.onnx.export (inputs input_ids,
attention_mask, token_type_ids; output last_hidden_state), and given a hand-written WordPiece
tokenizer.json. The reference vectors are computed by this same torch module on the token ids this
script's own WordPiece implementation produces, so the test checks tokenizer, model loading and
pooling end to end.

Usage: /usr/bin/python3 scripts/make-tiny-bert.py OUT_DIR   (writes OUT_DIR/tiny-bert/...)
Needs torch (Debian python3-torch 1.13) and onnx.
"""
import json
import math
import os
import sys

import torch
from torch import nn

HIDDEN = 32
HEADS = 2
LAYERS = 2
INTERMEDIATE = 64
MAX_POS = 64
EPS = 1e-12

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    "not", "fever", "cough", "dys", "##pnea", "short", "##ness", "of", "breath", "head", "##ache",
    "sore", "throat", "lab", "positive", "influenza", "high", "grade", "temperature", "(", ")", ">",
    "=", "104", ".", "0", "##f", "/", "40", "##c", "-", "like", "illness", "ages", "less", "than", "5",
    ",", "a", "the", "##s", "run", "##ny", "nose", "chest", "pain", "rash", "and", "with",
]
VOCAB = SPECIAL + WORDS
IDS = {t: i for i, t in enumerate(VOCAB)}

TEXTS = [
    "fever",
    "Not fever",
    "shortness of breath",
    "Dyspnea",
    "high grade temperature (>= 104.0F / 40C)",
    "influenza-like illness",
    "runny nose and sore throat with rash",
    "unknownword fever",
]


def basic_tokens(text):
    """BertNormalizer (lowercase, accents) + BertPreTokenizer (whitespace, punctuation)."""
    out = []
    for word in text.lower().split():
        cur = ""
        for ch in word:
            if not ch.isalnum():
                if cur:
                    out.append(cur)
                    cur = ""
                out.append(ch)
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def wordpiece(word):
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in IDS:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def encode(text, max_length):
    ids = [IDS["[CLS]"]]
    for w in basic_tokens(text):
        ids += [IDS[p] for p in wordpiece(w)]
    ids = ids[: max_length - 1] + [IDS["[SEP]"]]
    return ids


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(HIDDEN, HIDDEN)
        self.k = nn.Linear(HIDDEN, HIDDEN)
        self.v = nn.Linear(HIDDEN, HIDDEN)
        self.o = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=EPS)
        self.inter = nn.Linear(HIDDEN, INTERMEDIATE)
        self.out = nn.Linear(INTERMEDIATE, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=EPS)

    def forward(self, x, mask_add):
        b, l, _ = x.shape
        d = HIDDEN // HEADS

        def split(t):
            return t.view(b, l, HEADS, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_add
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, l, HIDDEN)
        x = self.ln1(x + self.o(ctx))
        h = self.inter(x)
        h = 0.5 * h * (1.0 + torch.erf(h / math.sqrt(2.0)))
        return self.ln2(x + self.out(h))


class TinyBert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(len(VOCAB), HIDDEN)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=EPS)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, input_ids, attention_mask, token_type_ids):
        l = input_ids.shape[1]
        pos = torch.arange(l, dtype=torch.long).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids))
        mask_add = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_add)
        return x


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else "test-output"
    out = os.path.join(out_root, "tiny-bert")
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    torch.manual_seed(20240913)
    model = TinyBert()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.3)
            else:
                p.normal_(0.0, 0.05)
        for layer_norm in [model.ln] + [m for layer in model.layers for m in (layer.ln1, layer.ln2)]:
            layer_norm.weight.add_(1.0)
    model.eval()

    ids = torch.tensor([encode("fever cough", MAX_POS)], dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        os.path.join(out, "onnx", "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "token_type_ids": {0: "batch", 1: "sequence"},
            "last_hidden_state": {0: "batch", 1: "sequence"},
        },
        opset_version=14,
    )

    config = {
        "model_type": "bert",
        "architectures": ["BertModel"],
        "vocab_size": len(VOCAB),
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": MAX_POS,
        "type_vocab_size": 2,
        "hidden_act": "gelu",
        "layer_norm_eps": EPS,
        "pad_token_id": 0,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    def added(i, t):
        return {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(i, t) for i, t in enumerate(SPECIAL)],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [IDS["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [IDS["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": IDS},
    }
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, indent=1)
    tokenizer_config = {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": MAX_POS,
        "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
        "mask_token": "[MASK]",
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=2)

    refs = []
    with torch.no_grad():
        for text in TEXTS:
            ids = encode(text, MAX_POS)
            t = torch.tensor([ids], dtype=torch.long)
            h = model(t, torch.ones_like(t), torch.zeros_like(t))[0]
            refs.append({"text": text, "ids": ids, "cls": h[0].tolist(), "mean": h.mean(0).tolist()})
        # Truncation to max_length 4: [CLS] + 2 word pieces + [SEP].
        long_text = TEXTS[6]
        ids = encode(long_text, 4)
        t = torch.tensor([ids], dtype=torch.long)
        h = model(t, torch.ones_like(t), torch.zeros_like(t))[0]
        truncated = {"text": long_text, "max_length": 4, "ids": ids, "cls": h[0].tolist(), "mean": h.mean(0).tolist()}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"hidden": HIDDEN, "texts": refs, "truncated": truncated}, f)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
