"""The book's printed values, typed here once: the independent reference every test compares against.

Chapter 3.3 of "Build a Large Language Model (From Scratch)" (``ch03/01_main-chapter-code/ch03.ipynb``),
and the tokenizer example of chapter 2. Transcribed from the notebook's printed outputs, not computed and
not imported from ``attention_core.book``: test_book.py checks that the library's copy agrees with this one.
"""

from __future__ import annotations

# Chapter 2: tiktoken's "gpt2" encoding of this text.
TOKENIZER_TEXT = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace."
TOKENIZER_IDS = [
    15496,
    11,
    466,
    345,
    588,
    8887,
    30,
    220,
    50256,
    554,
    262,
    4252,
    18250,
    8812,
    2114,
    286,
    617,
    34680,
    27271,
    13,
]
# Chapter 2's exercise: a single space is one token.
SPACE_IDS = [220]

SENTENCE = "Your journey starts with one step"
WORDS = ["Your", "journey", "starts", "with", "one", "step"]
# The GPT-2 pieces of SENTENCE: every word after the first carries its leading space.
PIECES = ["Your", " journey", " starts", " with", " one", " step"]

# Cell [2]: the inputs, already embedded in 3 dimensions; row i is x^(i+1).
INPUTS = [
    [0.43, 0.15, 0.89],  # Your     (x^1)
    [0.55, 0.87, 0.66],  # journey  (x^2)
    [0.57, 0.85, 0.64],  # starts   (x^3)
    [0.22, 0.58, 0.33],  # with     (x^4)
    [0.77, 0.25, 0.10],  # one      (x^5)
    [0.05, 0.80, 0.55],  # step     (x^6)
]

# Cells [3] to [8]: query x^(2), "journey".
SCORES_2 = [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865]  # attn_scores_2
SUM_NORMALIZED_2 = [0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656]  # attn_weights_2_tmp
WEIGHTS_2 = [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]  # attn_weights_2_naive and attn_weights_2
CONTEXT_2 = [0.4419, 0.6515, 0.5683]  # context_vec_2

# Cells [9] to [13]: every token at once.
SCORES = [
    [0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310],
    [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865],
    [0.9422, 1.4754, 1.4570, 0.8296, 0.7154, 1.0605],
    [0.4753, 0.8434, 0.8296, 0.4937, 0.3474, 0.6565],
    [0.4576, 0.7070, 0.7154, 0.3474, 0.6654, 0.2935],
    [0.6310, 1.0865, 1.0605, 0.6565, 0.2935, 0.9450],
]
WEIGHTS = [
    [0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],
    [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
    [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],
    [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],
    [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],
    [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896],
]
ROW_SUMS = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]  # "All row sums: tensor([1.0000, ...])"
CONTEXT = [
    [0.4421, 0.5931, 0.5790],
    [0.4419, 0.6515, 0.5683],
    [0.4431, 0.6496, 0.5671],
    [0.4304, 0.6298, 0.5510],
    [0.4671, 0.5910, 0.5266],
    [0.4177, 0.6503, 0.5645],
]

# The book prints 4 decimals: a correct value is within half a unit of the last one (plus float32 rounding).
HALF_UNIT = 5e-5 + 1e-6
