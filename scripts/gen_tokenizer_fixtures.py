#!/usr/bin/env python3
"""Generates the tokenizer test fixtures in tests/data/tokenizer/ from independent references.

References (used only here, never in the product):
  * Hugging Face `tokenizers` with SmolLM2's real pipeline, built from the GGUF vocabulary;
  * small byte-level BPE tokenizers trained with `tokenizers` (gpt2, llama3 and qwen2 splits),
    written as tokenizer.json;
  * `sentencepiece`: small unigram and bpe models with byte fallback, trained here;
  * `jinja2`: the official chat templates, rendered as transformers renders them.

Text: lines sampled deterministically from /work/shared/data/books/*.txt, Korean lines from the
system's gettext catalogs (/usr/share/locale/ko), and hand-written edge cases.

Usage: scripts/gen_tokenizer_fixtures.py [--model PATH] [--out DIR]
"""
import argparse
import gettext
import glob
import json
import os
import random
import re
import tempfile

import gguf
import jinja2
import jinja2.sandbox
import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

SUBSET_STRIDE = 5
BOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "books")
KO_LOCALE = "/usr/share/locale/ko/LC_MESSAGES"
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

EDGE_CASES = [
    "", " ", "  ", "\t", "\n", "\r\n", "a", "Hello world", " Hello  world ", "Hello\tworld\r\nagain",
    "It's, they're, we've, I'm, you'll, he'd, don't", "IT'S THEY'RE WE'VE", "'tis 'twas ''quote''",
    "1234567890", "3.14159 and 2,718,281 or 1e10", "The year 1815; page 42.", "x=1+2*3/4-5",
    "emoji 😀👍🏽 and flags 🇰🇷🇬🇧 and ZWJ 👨‍👩‍👧",
    "multiple   spaces   here", "trailing spaces   ", "   leading spaces", "tabs\t\tand\t spaces \t",
    "line one\nline two\n\nline four\n", "windows\r\nline\r\nends\r\n", "\n\n\n", " \n \n ",
    "Ünïcödé façade naïve café résumé", "Ελληνικά και русский текст", "中文文本和日本語のテキスト",
    "Mixed 한국어 and English 텍스트 123 테스트!", "한국어 문장입니다. 숫자 2024년 12월 25일.",
    "안녕하세요 👋 반갑습니다", "가나다라마바사 아자차카타파하", "ﾊﾝｶｸ full-width ＡＢＣ１２３",
    "non-breaking\u00a0space and\u2003em space and\u3000ideographic", "zero\u200bwidth\u200bspace",
    "combining e\u0301 and a\u0308", "Roman numerals Ⅻ and ½ ¾ superscript ²³", "٣ Arabic-Indic digits ١٢",
    "<|im_start|>user\nnot special when parse_special is false<|im_end|>", "<html><body>tags</body></html>",
    "email@example.com https://example.com/path?q=1&r=2", "$100.00 €50 £20 ¥1000", "snake_case and camelCase",
    "--- *** ### ... !!! ???", "\"quoted\" 'single' `back`", "a" * 300, " " * 50 + "x", "ab" * 100,
]

KO_HANDWRITTEN = [
    "오늘은 날씨가 맑고 따뜻합니다.", "저는 책을 읽는 것을 좋아해요.", "이 문서는 2024년 3월 1일에 작성되었습니다.",
    "기억은 오래 남고, 이야기는 계속됩니다.", "엠마는 하이버리에서 가장 영리한 아가씨였다.",
    "질문: 주인공의 이름은 무엇인가요?\n답변: 엘리자베스 베넷입니다.", "서울\t부산\t대구\t인천",
    "가격은 15,000원이고 할인율은 20%입니다.", "\"안녕!\" 그녀가 말했다. '잘 지냈니?'",
    "한글(Hangul)은 1443년에 창제되었다.", "    들여쓰기된 한국어 줄", "줄바꿈\r\n윈도우 스타일\r\n",
    "ㄱㄴㄷㄹ ㅏㅑㅓㅕ 자모만 있는 줄", "꿻 뷁 똠방각하 희귀한 음절", "AI 모델이 긴 소설을 요약합니다 📚✨",
]


def book_lines(rng, n):
    lines = []
    for path in sorted(glob.glob(os.path.join(BOOKS, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        raw = text.split("\n")
        picks = rng.sample(range(len(raw)), min(len(raw), n // 7))
        for i in sorted(picks):
            if rng.random() < 0.15:  # multi-line chunks keep newlines and blank lines
                lines.append("\n".join(raw[i:i + rng.randint(2, 5)]))
            elif raw[i].strip():
                lines.append(raw[i])
    return lines


def korean_lines(rng, n):
    found = set()
    for path in sorted(glob.glob(os.path.join(KO_LOCALE, "*.mo"))):
        try:
            with open(path, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog
        except Exception:
            continue
        for v in cat.values():
            if isinstance(v, str) and re.search("[\uac00-\ud7a3]", v) and 3 < len(v) < 300:
                found.add(v)
    found = sorted(found)
    picks = rng.sample(found, min(n, len(found)))
    return picks + KO_HANDWRITTEN


def smollm_tokenizer(model_path):
    r = gguf.GGUFReader(model_path)
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    merges = r.fields["tokenizer.ggml.merges"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    template = r.fields["tokenizer.chat_template"].contents()
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    specials = [t for t, ty in zip(tokens, types) if ty in (3, 4)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    for s in specials:
        assert tok.token_to_id(s) == vocab[s], s
    return tok, template


def train_bpe(corpus, vocab_size, kind):
    tok = Tokenizer(models.BPE())
    if kind == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        regex = LLAMA3_REGEX if kind == "llama3" else QWEN2_REGEX
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    if kind == "llama3":  # Llama 3's tokenizer.json sets ignore_merges; so does our C++ for llama3
        d = json.loads(tok.to_str())
        d["model"]["ignore_merges"] = True
        tok = Tokenizer.from_str(json.dumps(d))
    return tok


def train_spm(corpus, vocab_size, model_type, out_prefix):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for line in corpus:
            for sub in line.split("\n"):
                if sub.strip():
                    f.write(sub.replace("\r", "") + "\n")
        path = f.name
    spm.SentencePieceTrainer.train(
        input=path, model_prefix=out_prefix, vocab_size=vocab_size, model_type=model_type,
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, character_coverage=0.98, split_digits=True, num_threads=2,
        minloglevel=2)
    os.unlink(path)
    os.unlink(out_prefix + ".vocab")
    return spm.SentencePieceProcessor(model_file=out_prefix + ".model")


def spm_vocab(sp):
    out = []
    for i in range(sp.get_piece_size()):
        t = 1
        if sp.is_unknown(i): t = 2
        elif sp.is_control(i): t = 3
        elif sp.is_unused(i): t = 5
        elif sp.is_byte(i): t = 6
        out.append([sp.id_to_piece(i), sp.get_score(i), t])
    return {"pieces": out, "bos_id": sp.bos_id(), "eos_id": sp.eos_id(), "unk_id": sp.unk_id()}


def chat_cases(smollm_template):
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)
    env.globals["raise_exception"] = raise_exception
    templates = {
        "smollm2": (smollm_template, {}),
        "chatml": ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
                   " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                   "{% endif %}", {}),
        "llama2": ("{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
                   "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}"
                   "{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                   "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
                   "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
                   "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
                   "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
                   "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
                   {"bos_token": "<s>", "eos_token": "</s>"}),
        "llama3": ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
                   "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
                   "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
                   "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
                   {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
        "gemma": ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
                  "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                  "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
                  "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
                  "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
                  "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
                  {"bos_token": "<bos>", "eos_token": "<eos>"}),
    }
    convs = [
        [{"role": "user", "content": "Hello!"}],
        [{"role": "system", "content": "You answer questions about novels."},
         {"role": "user", "content": "Who is Emma Woodhouse?"}],
        [{"role": "user", "content": "  Summarise chapter 1.\n"},
         {"role": "assistant", "content": " Emma meets Harriet. \n"},
         {"role": "user", "content": "그리고 다음 장은요? 😀"}],
        [{"role": "system", "content": "Be brief.\n\nUse Korean: 한국어."},
         {"role": "user", "content": "Line one\nLine two\tTab"},
         {"role": "assistant", "content": "OK."},
         {"role": "user", "content": "\u00a0Trailing nbsp\u00a0"}],
    ]
    cases = []
    for name, (src, extra) in templates.items():
        tmpl = env.from_string(src)
        for ci, conv in enumerate(convs):
            for gen in (False, True):
                try:
                    out = tmpl.render(messages=conv, add_generation_prompt=gen, **extra)
                except jinja2.exceptions.TemplateError:
                    continue  # the template refuses this conversation (e.g. Gemma with system)
                cases.append({"template_name": name, "template": src, "messages": conv,
                              "add_generation_prompt": gen, "expected": out})
    return cases


def ids_str(ids):
    return " ".join(map(str, ids))


def main():
    ap = argparse.ArgumentParser()
    home_models = os.path.join(os.path.expanduser("~"), ".local/share/memlong/models")
    ap.add_argument("--model", default=os.path.join(os.environ.get("MEMLONG_MODELS_DIR", home_models),
                                                    "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests/data/tokenizer"))
    ap.add_argument("--n-english", type=int, default=2100)
    ap.add_argument("--n-korean", type=int, default=400)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(20240601)

    en = book_lines(rng, args.n_english)
    ko = korean_lines(rng, args.n_korean)
    lines = EDGE_CASES + en + ko
    kinds = ["edge"] * len(EDGE_CASES) + ["en"] * len(en) + ["ko"] * len(ko)

    smollm, template = smollm_tokenizer(args.model)
    # Full checks for the real vocabulary, the unigram SentencePiece model and the gpt2 tokenizer.json;
    # every SUBSET_STRIDE-th line for the others (keeps the fixtures under 2 MB).
    fixtures = {"lines": lines, "kinds": kinds, "subset_stride": SUBSET_STRIDE}
    subset = lines[::SUBSET_STRIDE]
    fixtures["smollm"] = [ids_str(e.ids) for e in smollm.encode_batch(lines, add_special_tokens=False)]
    for line, ids in zip(lines, fixtures["smollm"]):
        if "<|" not in line:
            dec = smollm.decode([int(x) for x in ids.split()] if ids else [], skip_special_tokens=False)
            assert dec == line, (line, dec)

    # Training text: other book lines plus all the Korean we have.
    train_rng = random.Random(7)
    corpus = book_lines(train_rng, 6000) + korean_lines(train_rng, 100000)

    for kind, size in (("gpt2", 2000), ("llama3", 1000), ("qwen2", 1000)):
        tok = train_bpe(corpus, size, kind)
        tok.save(os.path.join(args.out, f"bpe_{kind}.tokenizer.json"), pretty=False)
        tok = Tokenizer.from_file(os.path.join(args.out, f"bpe_{kind}.tokenizer.json"))
        which = lines if kind == "gpt2" else subset
        fixtures[f"bpe_{kind}"] = [ids_str(e.ids) for e in tok.encode_batch(which, add_special_tokens=False)]

    for model_type, size in (("unigram", 2000), ("bpe", 1500)):
        prefix = os.path.join(args.out, f"spm_{model_type}")
        sp = train_spm(corpus, size, model_type, prefix)
        with open(prefix + ".vocab.json", "w", encoding="utf-8") as f:
            json.dump(spm_vocab(sp), f, ensure_ascii=False, separators=(",", ":"))
        which = lines if model_type == "unigram" else subset
        fixtures[f"spm_{model_type}"] = [ids_str(sp.encode(line)) for line in which]

    # Special tokens parsed (HF always splits added tokens out).
    special_lines = ["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                     "text<|endoftext|>more<|im_end|>", "<|im_start|><|im_start|>", "< |im_start| >",
                     "<|im_start|>system\n안녕<|im_end|>"]
    fixtures["smollm_special"] = [{"text": s, "ids": smollm.encode(s, add_special_tokens=False).ids}
                                  for s in special_lines]

    with open(os.path.join(args.out, "lines.json"), "w", encoding="utf-8") as f:
        json.dump(fixtures, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(args.out, "chat_cases.json"), "w", encoding="utf-8") as f:
        json.dump(chat_cases(template), f, ensure_ascii=False, indent=1)
    n_ko = kinds.count("ko")
    print(f"{len(lines)} lines ({kinds.count('en')} English, {n_ko} Korean, {len(EDGE_CASES)} edge cases)")


if __name__ == "__main__":
    main()
