"""Names of places for residents who do not read kanji: a romanised reading beside them.

A municipality's name (架空市) means nothing to a resident who reads only the Latin
alphabet or Hangul, and the prefectures list is 48 buttons of kanji. In every
language but Japanese the UI shows the name *and* its reading in the Latin
alphabet: the resident finds the place they know by its sound (``Kaso-cho``,
``Hokkaido``), and staff and the municipality still see the official name.

* Municipalities: the center sends the reading in hiragana (protocol §4.3 and
  §9.2); :func:`municipality_reading` romanises it (Hepburn, long vowels written
  short as on road signs and passports: とうきょう → Tokyo) and hyphenates the
  suffix when the name ends in 市 / 区 / 町 / 村 and the reading in that suffix's
  reading (かそうちょう for 仮想町 → ``Kaso-cho``).
* Prefectures: the center sends no reading; the 47 never change, so their usual
  English names are here by JIS X 0401 code (:data:`PREFECTURES`). Another code
  (the emulator's fictional 99) shows no reading.
"""

from __future__ import annotations

_VOWELS = "aiueo"
_ROWS = {
    "": "あいうえお", "k": "かきくけこ", "s": "さしすせそ", "t": "たちつてと",
    "n": "なにぬねの", "h": "はひふへほ", "m": "まみむめも", "y": "や ゆ よ",
    "r": "らりるれろ", "w": "わゐ ゑを", "g": "がぎぐげご", "z": "ざじずぜぞ",
    "d": "だぢづでど", "b": "ばびぶべぼ", "p": "ぱぴぷぺぽ",
}
_KANA: dict[str, str] = {}
for _consonant, _row in _ROWS.items():
    for _vowel, _kana in zip(_VOWELS, _row, strict=True):
        if _kana != " ":
            _KANA[_kana] = _consonant + _vowel
_KANA.update({"し": "shi", "ち": "chi", "つ": "tsu", "ふ": "fu", "じ": "ji", "ぢ": "ji",
              "づ": "zu", "ゐ": "i", "ゑ": "e", "を": "o", "ん": "n", "ゔ": "vu",
              "ぁ": "a", "ぃ": "i", "ぅ": "u", "ぇ": "e", "ぉ": "o", "ゎ": "wa"})
_YOON = {"ゃ": "a", "ゅ": "u", "ょ": "o"}
_YOON_STEM = {"き": "ky", "ぎ": "gy", "し": "sh", "じ": "j", "ち": "ch", "ぢ": "j",
              "に": "ny", "ひ": "hy", "び": "by", "ぴ": "py", "み": "my", "り": "ry"}
#: suffix of a municipality's name → the readings it takes
_SUFFIXES = {"市": ("し",), "区": ("く",), "町": ("ちょう", "まち"), "村": ("むら", "そん")}

#: The 47 prefectures by JIS X 0401 code, as they are usually written in English.
PREFECTURES = {
    "01": "Hokkaido", "02": "Aomori", "03": "Iwate", "04": "Miyagi", "05": "Akita",
    "06": "Yamagata", "07": "Fukushima", "08": "Ibaraki", "09": "Tochigi", "10": "Gunma",
    "11": "Saitama", "12": "Chiba", "13": "Tokyo", "14": "Kanagawa", "15": "Niigata",
    "16": "Toyama", "17": "Ishikawa", "18": "Fukui", "19": "Yamanashi", "20": "Nagano",
    "21": "Gifu", "22": "Shizuoka", "23": "Aichi", "24": "Mie", "25": "Shiga",
    "26": "Kyoto", "27": "Osaka", "28": "Hyogo", "29": "Nara", "30": "Wakayama",
    "31": "Tottori", "32": "Shimane", "33": "Okayama", "34": "Hiroshima", "35": "Yamaguchi",
    "36": "Tokushima", "37": "Kagawa", "38": "Ehime", "39": "Kochi", "40": "Fukuoka",
    "41": "Saga", "42": "Nagasaki", "43": "Kumamoto", "44": "Oita", "45": "Miyazaki",
    "46": "Kagoshima", "47": "Okinawa",
}


def romanize(kana: str) -> str:
    """Hiragana (or katakana) in lower-case Hepburn, long vowels written short."""
    text = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)
    out: list[str] = []
    double = False
    i = 0
    while i < len(text):
        ch = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch == "っ":
            double = True
            i += 1
            continue
        if ch in _YOON_STEM and nxt in _YOON:
            syllable = _YOON_STEM[ch] + _YOON[nxt]
            i += 2
        elif ch == "ー":
            i += 1
            continue  # a long vowel: written short
        else:
            syllable = _KANA.get(ch, "")
            i += 1
        if not syllable:
            continue
        if double:
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
            double = False
        # a long vowel written short: おう, おお → o; うう → u (とうきょう → tokyo)
        if out and ((syllable == "u" and out[-1][-1] in "ou")
                    or (syllable == "o" and out[-1][-1] == "o")):
            continue
        out.append(syllable)
    return "".join(out)


def municipality_reading(name: str, kana: str) -> str:
    """``仮想町``, ``かそうちょう`` → ``Kaso-cho``; "" when there is no reading."""
    if not kana:
        return ""
    for suffix, readings in _SUFFIXES.items():
        if name.endswith(suffix) and len(name) > 1:
            for said in readings:
                if kana.endswith(said) and len(kana) > len(said):
                    stem = romanize(kana[: -len(said)])
                    return f"{stem.capitalize()}-{romanize(said)}"
    return romanize(kana).capitalize()


def prefecture_reading(code: str) -> str:
    """The prefecture's usual English name by JIS code ("" for a code not in the 47)."""
    return PREFECTURES.get(code, "")
