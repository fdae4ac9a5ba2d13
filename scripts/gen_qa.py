#!/usr/bin/env python3
"""Deterministic question set for `memlong eval-qa` (core/assistant/eval_qa.h).

Two kinds of questions, from the public-domain books in ../shared/data/books:

planted  Synthetic facts ("The secret code of the lighthouse keeper Alaric is 73914.") inserted at
         a known depth (0..100 %) of an excerpt of a book, at a sentence boundary. Each excerpt is
         written as a new document docs/planted-NNN.txt; the question asks for the fact.
chapter  Facts stated once in a book: a phrase around a capitalised word that occurs exactly once
         in the book; the question asks in which chapter the phrase appears, the answer is the
         chapter's title ("Chapter 12"). Only books whose chapter titles are unique are used. The
         document is the book itself (doc = its file name).

Output (in --out): QUESTIONS.jsonl, one object a line:
  {"id", "question", "answers": [...], "doc": file name, "expected_offset": UTF-8 byte offset of
   the fact in the document, "kind": "planted" | "chapter", "depth": percent (-1 for chapter)}
and docs/planted-NNN.txt. `doc` is a file name: planted documents are in <out>/docs, books in
--books-dir. The same arguments and seed always give the same files.

Usage: scripts/gen_qa.py --books-dir ../shared/data/books --out tests/data/qa \
         --n-planted 10 --n-chapter 6 --doc-chars 3000 --seed 7
"""
import argparse
import json
import os
import random
import re
import sys

NAMES = ["Alaric", "Miriam", "Tobias", "Elowen", "Corvin", "Isolde", "Magnus", "Theda",
         "Bertram", "Odile", "Caspian", "Wilhelmina", "Ansel", "Rosalind", "Fenwick", "Liesel"]
PLACES = ["Veltra", "Orindel", "Kestmoor", "Valdera", "Morvenna", "Tashkel", "Brisca", "Endolin"]
CITIES = ["Morrow", "Hallam", "Quillby", "Saltmarsh", "Dunhaven", "Ivyreach", "Corbel", "Larkspur"]
COLORS = ["blue", "green", "red", "yellow", "white", "black", "purple", "orange"]
METALS = ["silver", "golden", "iron", "copper", "brass"]
CONTAINERS = ["cabinet", "drawer", "chest", "basket", "cupboard", "trunk"]
FRUITS = ["apricot", "plum", "pear", "fig", "cherry", "quince"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen", "eighteen", "nineteen", "twenty"]
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty"}


def number_words(n):
    if n < len(NUMBER_WORDS):
        return NUMBER_WORDS[n]
    t, u = divmod(n, 10)
    return TENS[t] + ("-" + NUMBER_WORDS[u] if u else "")


def planted_fact(rng):
    """Returns (sentence, question, answers)."""
    kind = rng.randrange(5)
    name = rng.choice(NAMES)
    if kind == 0:
        code = str(rng.randrange(10000, 100000))
        return (f"The secret code of the lighthouse keeper {name} is {code}.",
                f"What is the secret code of the lighthouse keeper {name}?", [code])
    if kind == 1:
        metal, color, box = rng.choice(METALS), rng.choice(COLORS), rng.choice(CONTAINERS)
        return (f"{name} keeps the {metal} key in the {color} {box}.",
                f"Where does {name} keep the {metal} key?", [f"{color} {box}"])
    if kind == 2:
        color, code = rng.choice(COLORS), str(rng.randrange(1000, 10000))
        return (f"The code of the {color} door is {code}.",
                f"What is the code of the {color} door?", [code])
    if kind == 3:
        place, city = rng.choice(PLACES), rng.choice(CITIES)
        return (f"The capital of the island of {place} is {city}.",
                f"What is the capital of the island of {place}?", [city])
    fruit = rng.choice(FRUITS)
    return (f"{name}'s favourite fruit is the {fruit}.", f"What is {name}'s favourite fruit?",
            [fruit])


def read_book(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def excerpt(rng, text, n_chars):
    """A run of whole paragraphs of about n_chars characters, from a random place."""
    paragraphs = []
    for p in re.split(r"\n\s*\n", text):
        # Texts without blank lines (the KJV has one verse a line): lines are the paragraphs.
        parts = p.split("\n") if len(p) > n_chars else [p]
        paragraphs += [x.strip() for x in parts if len(x.strip()) > 80]
    start = rng.randrange(max(1, len(paragraphs) - 200))
    out = []
    for p in paragraphs[start:]:
        if out and sum(len(x) + 2 for x in out) + len(p) > n_chars:
            break
        out.append(re.sub(r"\s*\n\s*", " ", p))
    return "\n\n".join(out)


def insert_at_depth(text, sentence, depth):
    """Inserts `sentence` at the sentence boundary nearest to depth % of `text`. Returns the new
    text and the character offset of the sentence in it."""
    target = len(text) * depth // 100
    bounds = [0] + [m.end() for m in re.finditer(r"[.!?][\"']?\s+", text)] + [len(text)]
    at = min(bounds, key=lambda b: (abs(b - target), b))
    if at == 0:
        new = sentence + " " + text
        return new, 0
    if at == len(text):
        new = text.rstrip() + " " + sentence
        return new, len(text.rstrip()) + 1
    new = text[:at] + sentence + " " + text[at:]
    return new, at


def byte_offset(text, char_offset):
    return len(text[:char_offset].encode("utf-8"))


CHAPTER_RE = re.compile(r"^(?:CHAPTER|Chapter) ([0-9]+|[IVXLC]+)\.?$", re.M)


def chapters(text):
    """[(title, start, end)] of a book whose chapter titles are unique, else None."""
    heads = list(CHAPTER_RE.finditer(text))
    titles = [m.group(0).strip() for m in heads]
    if len(heads) < 3 or len(set(titles)) != len(titles):
        return None
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append((titles[i], m.end(), end))
    return out


def roman_to_int(s):
    vals = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total = 0
    for i, c in enumerate(s):
        v = vals[c]
        total += -v if i + 1 < len(s) and vals[s[i + 1]] > v else v
    return total


def chapter_question(rng, book_name, title, text, chaps):
    """A phrase around a capitalised word that occurs exactly once in the book."""
    counts = {}
    for w in re.findall(r"\b[A-Z][a-z]{3,}\b", text):
        counts[w] = counts.get(w, 0) + 1
    candidates = []
    for w, c in sorted(counts.items()):
        if c != 1:
            continue
        m = re.search(r"\b" + w + r"\b", text)
        # Not at a sentence start (a common word capitalised), and inside a chapter.
        before = text[max(0, m.start() - 3):m.start()]
        if re.search(r"[.!?\"]\s*$", before) or not before.strip():
            continue
        for ch_title, b, e in chaps:
            if b <= m.start() < e:
                candidates.append((w, m.start(), ch_title))
    if not candidates:
        return None
    w, pos, ch_title = rng.choice(candidates)
    words = list(re.finditer(r"\S+", text))
    idx = next(i for i, m in enumerate(words) if m.start() <= pos < m.end())
    lo, hi = max(0, idx - 3), min(len(words), idx + 4)
    phrase = " ".join(m.group(0) for m in words[lo:hi]).strip(".,;:!?\"'()-_")
    if text.count(phrase) != 1:
        return None
    num = ch_title.split()[1].rstrip(".")
    n = int(num) if num.isdigit() else roman_to_int(num)
    answers = [f"chapter {n}"]
    if n <= 69:
        answers.append(f"chapter {number_words(n)}")
    if not num.isdigit():
        answers.append(f"chapter {num}")
    return {
        "question": f'In which chapter of {title} does the phrase "{phrase}" appear?',
        "answers": answers,
        "doc": book_name,
        "expected_offset": byte_offset(text, words[lo].start()),
        "kind": "chapter",
        "depth": -1,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--books-dir", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                       "shared", "data", "books"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-planted", type=int, default=10)
    ap.add_argument("--n-chapter", type=int, default=6)
    ap.add_argument("--doc-chars", type=int, default=3000)
    ap.add_argument("--depths", default="0,25,50,75,100")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    books = sorted(f for f in os.listdir(args.books_dir) if f.endswith(".txt"))
    if not books:
        sys.exit(f"no .txt books in {args.books_dir}")
    depths = [int(d) for d in args.depths.split(",")]
    os.makedirs(os.path.join(args.out, "docs"), exist_ok=True)
    questions = []

    texts = {b: read_book(os.path.join(args.books_dir, b)) for b in books}
    for i in range(args.n_planted):
        book = books[i % len(books)]
        depth = depths[i % len(depths)]
        sentence, question, answers = planted_fact(rng)
        doc_text, at = insert_at_depth(excerpt(rng, texts[book], args.doc_chars), sentence, depth)
        name = f"planted-{i:03d}.txt"
        with open(os.path.join(args.out, "docs", name), "w", encoding="utf-8") as f:
            f.write(doc_text + "\n")
        assert doc_text[at:at + len(sentence)] == sentence
        questions.append({"id": f"planted-{i:03d}", "question": question, "answers": answers,
                          "doc": name, "expected_offset": byte_offset(doc_text, at),
                          "kind": "planted", "depth": depth, "source": book})

    chapter_books = [b for b in books if chapters(texts[b])]
    made = 0
    attempts = 0
    while made < args.n_chapter and chapter_books and attempts < 100 * max(1, args.n_chapter):
        attempts += 1
        book = chapter_books[made % len(chapter_books)]
        text = texts[book]
        title = text.strip().split("\n")[0].strip()
        q = chapter_question(rng, book, title, text, chapters(text))
        if q is None or any(q["question"] == x["question"] for x in questions):
            continue
        q = {"id": f"chapter-{made:03d}", **q}
        questions.append(q)
        made += 1

    with open(os.path.join(args.out, "QUESTIONS.jsonl"), "w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{len(questions)} questions ({args.n_planted} planted, {made} chapter) in {args.out}")


if __name__ == "__main__":
    main()
