"""The koseki use-registration sub-machine: form, kana input, validation, wipe."""

from __future__ import annotations

import datetime

import pytest

from kiosk.core import registration as rg
from kiosk.core.commands import Say
from kiosk.core.registration import Problem, Registration, Step

TODAY = datetime.date(2026, 11, 23)
PREFS = (rg.Prefecture("13", "東京都"), rg.Prefecture("27", "大阪府"))
CITIES = (rg.DomicileMunicipality("999921", "見本市"),
          rg.DomicileMunicipality("999931", "不参加村", participates=False))


def keys(text: str) -> list[rg.RegistrationEvent]:
    return [rg.KeyTyped(c) for c in text]


def feed(r: Registration, events: list[rg.RegistrationEvent]) -> list:
    out: list = []
    for e in events:
        out += r.handle(e)
    return out


def at(step: Step) -> Registration:
    r = Registration("key-1")
    path: list[tuple[Step, list[rg.RegistrationEvent]]] = [
        (Step.PREFECTURE, [rg.ApplyChosen(), rg.PrefecturesListed(PREFS, TODAY)]),
        (Step.MUNICIPALITY, [rg.PrefectureChosen("13"), rg.MunicipalitiesListed("13", CITIES)]),
        (Step.ADDRESS, [rg.DomicileMunicipalityChosen("999921")]),
        (Step.HEAD, [*keys("みほん"), rg.ConvertPressed(), rg.CandidateChosen(0),
                    *keys("ちょう"), rg.ConvertPressed(), rg.CandidateChosen(0),
                    *keys("1-2"), rg.NextPressed()]),
        (Step.PHONE, [*keys("みほん"), rg.ConvertPressed(), rg.CandidateChosen(0),
                      *keys("たろう"), rg.ConvertPressed(), rg.CandidateChosen(0),
                      rg.NextPressed()]),
        (Step.BIRTH, [*keys("09012345678"), rg.NextPressed()]),
        (Step.EXPIRY, [*keys("19800401"), rg.NextPressed()]),
        (Step.CODE, [*keys("20301231"), rg.NextPressed()]),
        (Step.REVIEW, [*keys("1234"), rg.NextPressed()]),
        (Step.CARD, [rg.NextPressed()]),
    ]
    if r.step is step:
        return r
    for target, events in path:
        feed(r, events)
        assert r.step is target, (target, r.step, r.problem)
        if target is step:
            return r
    raise AssertionError(step)


def test_apply_path_builds_the_application_and_submits_it_once_confirmed():
    r = at(Step.CARD)
    assert r.wants_card
    app = r.application()
    assert app.municipality == "999921"
    assert app.address == "見本町1-2"
    assert app.head_of_family == "見本太郎"
    assert app.phone == "09012345678"
    assert (app.birth_date, app.card_expiry, app.security_code) == (
        "1980-04-01", "2030-12-31", "1234")
    r.card_done()
    assert r.step is Step.CONFIRM
    out = r.handle(rg.ApplicationConfirmed())
    assert out == [rg.SubmitApplication("key-1", app), Say("reg_waiting")]
    r.handle(rg.ApplicationAccepted("481603927514", "2026-11-23"))
    assert r.step is Step.DONE and r.view().fields == ()
    assert r.handle(rg.PrintNumberRequested()) == [
        rg.PrintApplicationNumber("481603927514", "2026-11-23"), Say("printing")]
    r.handle(rg.NumberPrinted(True))
    assert r.step is Step.DONE and r.view().printed
    assert r.handle(rg.PrintNumberRequested()) == []  # once is enough
    r.handle(rg.RegistrationClosed())
    assert r.finished


def test_personal_data_stays_out_of_every_repr():
    r = at(Step.CARD)
    text = repr(r) + repr(r.view()) + repr(r.application()) + repr(rg.KeyTyped("9"))
    for secret in ("太郎", "町1", "0901234", "1980", "2030", "1234"):
        assert secret not in text


def test_wipe_forgets_everything_typed():
    r = at(Step.CARD)
    r.wipe()
    v = r.view()
    assert v.fields == () and v.text == "" and v.municipality is None
    with pytest.raises(AssertionError):
        r.application()  # nothing left to send


@pytest.mark.parametrize(("step", "typed", "problem"), [
    (Step.PHONE, "", Problem.REQUIRED),
    (Step.PHONE, "12345", Problem.PHONE),
    (Step.PHONE, "1901234567", Problem.PHONE),
    (Step.BIRTH, "19800230", Problem.DATE),
    (Step.BIRTH, "1980041", Problem.DATE),
    (Step.BIRTH, "20301231", Problem.BIRTH_FUTURE),
    (Step.EXPIRY, "20201231", Problem.EXPIRED),
    (Step.EXPIRY, "20261322", Problem.DATE),
    (Step.CODE, "123", Problem.CODE),
])
def test_invalid_inputs_are_refused_with_a_reason(step, typed, problem):
    r = at(step)
    feed(r, [*keys(typed), rg.NextPressed()])
    assert r.step is step and r.view().problem is problem
    r.handle(rg.FieldCleared())
    assert r.view().problem is None and r.view().text == ""


def test_expiry_today_is_still_valid():
    r = at(Step.EXPIRY)
    feed(r, [*keys(TODAY.strftime("%Y%m%d")), rg.NextPressed()])
    assert r.step is Step.CODE


def test_digit_fields_take_only_digits_up_to_their_length():
    r = at(Step.CODE)
    feed(r, keys("1a2あ345"))
    assert r.view().text == "1234"


def test_a_municipality_that_does_not_take_part_is_refused():
    r = at(Step.MUNICIPALITY)
    r.handle(rg.DomicileMunicipalityChosen("999931"))
    assert r.step is Step.MUNICIPALITY and r.view().problem is Problem.NOT_PARTICIPATING
    r.handle(rg.DomicileMunicipalityChosen("nowhere"))
    assert r.step is Step.MUNICIPALITY


def test_municipalities_of_another_prefecture_are_ignored():
    r = Registration("k")
    feed(r, [rg.ApplyChosen(), rg.PrefecturesListed(PREFS, TODAY), rg.PrefectureChosen("13"),
             rg.MunicipalitiesListed("27", CITIES)])
    assert r.view().municipalities == ()


def test_kana_marks_and_small_kana():
    assert rg.apply_mark("か", "dakuten") == "が"
    assert rg.apply_mark("が", "dakuten") == "か"
    assert rg.apply_mark("は", "handakuten") == "ぱ"
    assert rg.apply_mark("ば", "handakuten") == "ぱ"
    assert rg.apply_mark("つ", "small") == "っ"
    assert rg.apply_mark("ん", "dakuten") == "ん"
    assert rg.apply_mark("", "small") == ""
    r = at(Step.HEAD)
    r.handle(rg.FieldCleared())
    feed(r, [*keys("さとう"), rg.KeyTyped("dakuten")])
    assert r.view().pending == "さとゔ"
    feed(r, [rg.KeyTyped("dakuten"), rg.KanaKept()])
    assert r.view().text == "さとう" and r.view().pending == ""


def test_conversion_offers_kanji_and_combines_known_readings():
    assert rg.candidates("やまだ") == ("山田",)
    assert "中野" in rg.candidates("なかの")
    assert rg.candidates("ぬ") == ()
    r = at(Step.HEAD)
    feed(r, [rg.FieldCleared(), *keys("わたなべ"), rg.ConvertPressed()])
    assert r.view().candidates == ("渡辺", "渡邊")
    r.handle(rg.CandidateChosen(1))
    assert r.view().text == "渡邊"


def test_kana_is_an_accepted_entry():
    r = at(Step.HEAD)
    feed(r, [rg.FieldCleared(), *keys("ぬまた"), rg.NextPressed()])
    assert r.step is Step.PHONE


def test_back_keeps_what_was_typed_and_leaves_from_the_menu():
    r = at(Step.PHONE)
    feed(r, [*keys("0312"), rg.PreviousPressed()])
    assert r.step is Step.HEAD
    r.handle(rg.NextPressed())
    assert r.step is Step.PHONE and r.view().text == "0312"
    r = Registration("k")
    r.handle(rg.PreviousPressed())
    assert r.left


def test_status_check():
    r = Registration("k")
    r.handle(rg.StatusChosen())
    feed(r, [*keys("12345"), rg.NextPressed()])
    assert r.view().problem is Problem.NUMBER
    r.handle(rg.FieldCleared())
    out = feed(r, [*keys("481603927514"), rg.NextPressed()])
    assert out == [rg.QueryApplication("481603927514"), Say("reg_waiting")] and r.waiting
    r.handle(rg.StatusReported("481603927514", rg.ApplicationStatus.REJECTED,
                               "見本市役所 市民課 0000-00-0000"))
    v = r.view()
    assert v.step is Step.STATUS_RESULT and v.status is rg.ApplicationStatus.REJECTED
    assert v.contact


@pytest.mark.parametrize(("first11", "digit"), [
    # Derived by hand from the rule (weights 6 5 4 3 2 7 6 5 4 3 2 from the first digit,
    # 11 - remainder, 0 when the remainder is 0 or 1); sums shown. No real person's number.
    ("12345678901", 8),  # 6+10+12+12+10+42+42+40+36+0+2 = 212, 212 % 11 = 3
    ("99999999999", 6),  # 9 * 47 = 423, % 11 = 5
    ("10000000000", 5),  # 1 * 6 = 6: the first digit weighs 6
    ("00000000001", 9),  # 1 * 2 = 2: the last digit weighs 2
    ("00000000022", 1),  # 2*3 + 2*2 = 10
    ("00000000028", 0),  # 2*3 + 8*2 = 22, remainder 0 -> 0
    ("00000000037", 0),  # 3*3 + 7*2 = 23, remainder 1 -> 0 (not 10)
    ("00000000000", 0),
])
def test_check_digit_is_the_my_number_check_digit(first11, digit):
    assert rg.check_digit(first11) == digit
    assert rg.number_valid(first11 + str(digit))
    assert not rg.number_valid(first11 + str((digit + 1) % 10))


def test_check_digit_catches_every_single_mistyped_digit():
    number = "481603927514"
    for i in range(12):
        for d in "0123456789":
            typo = number[:i] + d + number[i + 1:]
            assert rg.number_valid(typo) is (typo == number)


@pytest.mark.parametrize("bad", ["", "4816039275", "48160392751", "4816039275140", "12345678901a",
                                 "１２３４５６７８９０１８"])
def test_a_number_that_is_not_twelve_ascii_digits_is_not_valid(bad):
    assert not rg.number_valid(bad)


@pytest.mark.parametrize("bad", ["", "1234567890", "123456789012", "1234567890a",
                                 "１２３４５６７８９０１"])
def test_check_digit_is_computed_over_eleven_ascii_digits_only(bad):
    with pytest.raises(ValueError):
        rg.check_digit(bad)


def test_status_check_refuses_a_mistyped_number_without_asking_the_center():
    r = Registration("k")
    r.handle(rg.StatusChosen())
    out = feed(r, [*keys("481603927515"), rg.NextPressed()])
    assert r.step is Step.STATUS_NUMBER and r.view().problem is Problem.NUMBER_CHECK
    assert not any(isinstance(c, rg.QueryApplication) for c in out)
    assert said(out) == ["reg_problem_number_check"]
    r.handle(rg.FieldCleared())
    out = feed(r, [*keys("481603927514"), rg.NextPressed()])
    assert rg.QueryApplication("481603927514") in out


def test_status_check_throttled_by_the_center_says_so_and_lets_the_resident_go_back():
    r = Registration("k")
    r.handle(rg.StatusChosen())
    feed(r, [*keys("481603927514"), rg.NextPressed()])
    out = r.handle(rg.RegistrationCenterFailed("too_many_checks"))
    assert r.step is Step.STATUS_NUMBER and r.view().notice == "too_many_checks"
    assert said(out) == ["reg_too_many_checks"]
    r.handle(rg.PreviousPressed())
    assert r.step is Step.MENU


def test_center_failure_returns_to_a_screen_the_resident_can_act_on():
    r = at(Step.CARD)
    r.card_done()
    r.handle(rg.ApplicationConfirmed())
    r.handle(rg.RegistrationCenterFailed("center_unreachable"))
    assert r.step is Step.CONFIRM and r.view().notice == "center_unreachable"
    out = r.handle(rg.ApplicationConfirmed())
    assert out and out[0].key == "key-1"  # the same key: the center will not file it twice


def test_events_out_of_place_change_nothing():
    every = [rg.ApplyChosen(), rg.StatusChosen(), rg.PrefectureChosen("13"),
             rg.DomicileMunicipalityChosen("999921"), rg.KeyTyped("あ"), rg.KeyDeleted(),
             rg.FieldCleared(), rg.ConvertPressed(), rg.CandidateChosen(3), rg.KanaKept(),
             rg.NextPressed(), rg.PreviousPressed(), rg.NextPagePressed(),
             rg.PreviousPagePressed(), rg.ApplicationConfirmed(),
             rg.PrintNumberRequested(), rg.RegistrationClosed(),
             rg.PrefecturesListed(PREFS, TODAY), rg.MunicipalitiesListed("13", CITIES),
             rg.ApplicationAccepted("1", "2026-11-23"), rg.RegistrationCenterFailed("x"),
             rg.StatusReported("1", rg.ApplicationStatus.PENDING), rg.NumberPrinted(True)]
    for step in (Step.MENU, Step.PREFECTURE, Step.ADDRESS, Step.PHONE, Step.CARD):
        for event in every:
            r = at(step)
            r.handle(event)
            assert isinstance(r.step, Step) and r.notice != "internal", (step, event)


# ---------------------------------------------------------------- paging

#: 47 prefectures in JIS order plus the fictional 99, sent shuffled: 4 pages of 12.
ALL_PREFS = tuple(rg.Prefecture(f"{i:02d}", f"県{i:02d}") for i in (*range(47, 0, -1), 99))
MANY = tuple(rg.DomicileMunicipality(f"01{i:04d}", f"町{i}") for i in range(179))


def at_prefectures() -> Registration:
    r = Registration("key-1")
    feed(r, [rg.ApplyChosen(), rg.PrefecturesListed(ALL_PREFS, TODAY)])
    return r


def test_prefectures_are_listed_in_jis_code_order_hokkaido_first():
    v = at_prefectures().view()
    assert [p.code for p in v.prefectures] == [f"{i:02d}" for i in (*range(1, 48), 99)]
    assert (v.page, v.pages, v.listed) == (0, 4, True)


def test_pages_go_forward_and_back_within_bounds():
    r = at_prefectures()
    assert r.handle(rg.PreviousPagePressed()) == [] and r.page == 0  # no page before the first
    for expected in (1, 2, 3, 3, 3):  # and none after the last
        r.handle(rg.NextPagePressed())
        assert r.view().page == expected
    r.handle(rg.PreviousPagePressed())
    assert r.view().page == 2
    r.handle(rg.PrefectureChosen("99"))  # on the third page: chosen like any other
    assert r.step is Step.MUNICIPALITY and r.view().prefecture == rg.Prefecture("99", "県99")


def test_a_list_that_fits_on_one_page_does_not_page():
    r = at(Step.MUNICIPALITY)
    assert r.view().pages == 1
    r.handle(rg.NextPagePressed())
    assert r.view().page == 0


def test_the_page_starts_again_when_the_list_changes():
    r = at_prefectures()
    feed(r, [rg.NextPagePressed(), rg.PrefectureChosen("13")])
    assert r.view().page == 0 and not r.view().listed  # waiting for the municipalities
    r.handle(rg.MunicipalitiesListed("13", MANY))
    assert (r.view().page, r.view().pages, r.view().listed) == (0, 15, True)  # 179 / 12
    feed(r, [rg.NextPagePressed()] * 20)
    assert r.view().page == 14
    r.handle(rg.PreviousPressed())  # back to the prefectures: the page with 東京都 (13)
    assert r.step is Step.PREFECTURE and r.view().page == 1
    feed(r, [rg.PreviousPressed(), rg.ApplyChosen(), rg.NextPagePressed(),
             rg.PrefecturesListed(ALL_PREFS, TODAY)])  # listed again: from the first page
    assert r.step is Step.PREFECTURE and r.view().page == 0


def test_back_to_the_municipalities_shows_the_page_of_the_one_chosen():
    r = at_prefectures()
    feed(r, [rg.PrefectureChosen("01"), rg.MunicipalitiesListed("01", MANY),
             *[rg.NextPagePressed()] * 3, rg.DomicileMunicipalityChosen("010040")])
    assert r.step is Step.ADDRESS
    r.handle(rg.PreviousPressed())
    assert r.step is Step.MUNICIPALITY and r.view().page == 3  # 40 // 12


def test_a_prefecture_with_no_municipality_taking_part_says_so_and_back_works():
    r = at_prefectures()
    feed(r, [rg.PrefectureChosen("01"), rg.MunicipalitiesListed("01", ())])
    v = r.view()
    assert v.step is Step.MUNICIPALITY and v.listed and v.municipalities == ()
    assert v.pages == 1
    r.handle(rg.PreviousPressed())
    assert r.step is Step.PREFECTURE


def test_paging_is_only_for_the_lists():
    r = at(Step.PHONE)
    r.handle(rg.NextPagePressed())
    assert r.step is Step.PHONE and r.view().page == 0 and r.view().pages == 1


def test_wipe_forgets_the_lists_and_the_page():
    r = at_prefectures()
    feed(r, [rg.NextPagePressed(), rg.NextPagePressed()])
    r.wipe()
    v = r.view()
    assert (v.page, v.pages, v.listed, v.prefectures, v.municipalities) == (0, 1, False, (), ())


# ---------------------------------------------------------------- kana index

#: Fictional stems with their readings, over every kana row but わ (so its tab is greyed).
STEMS = (
    ("青葉", "あおば"), ("朝日", "あさひ"), ("泉野", "いずみの"), ("内浦", "うちうら"),
    ("江川", "えがわ"), ("大野", "おおの"),
    ("柏木", "かしわぎ"), ("川口", "かわぐち"), ("北原", "きたはら"), ("栗山", "くりやま"),
    ("小泉", "こいずみ"), ("桂", "かつら"), ("金山", "かねやま"), ("銀山", "ぎんざん"),
    ("桜木", "さくらぎ"), ("沢田", "さわだ"), ("清水", "しみず"), ("須賀", "すが"),
    ("関", "せき"), ("園部", "そのべ"),
    ("高田", "たかだ"), ("竹内", "たけうち"), ("津田", "つだ"), ("寺町", "てらまち"),
    ("戸田", "とだ"),
    ("中里", "なかざと"), ("西野", "にしの"), ("沼田", "ぬまた"), ("根岸", "ねぎし"),
    ("野田", "のだ"),
    ("浜田", "はまだ"), ("日野", "ひの"), ("藤沢", "ふじさわ"), ("馬場", "ばば"),
    ("堀江", "ほりえ"),
    ("松原", "まつばら"), ("緑", "みどり"), ("村岡", "むらおか"), ("目黒", "めぐろ"),
    ("森田", "もりた"),
    ("山中", "やまなか"), ("湯川", "ゆかわ"), ("吉野", "よしの"),
    ("来見", "らいみ"), ("龍野", "りゅうの"), ("留野", "るの"), ("麗水", "れいすい"),
    ("六郷", "ろくごう"),
)


def _indexed() -> tuple[rg.DomicileMunicipality, ...]:
    """179 fictional municipalities (北海道's count) with readings, in code order:
    each stem as 市, 町 and 村, then 35 新…町 (さ row: 53, five pages of its own)."""
    named = [(stem + suffix, kana + reading) for suffix, reading in
             (("市", "し"), ("町", "ちょう"), ("村", "むら")) for stem, kana in STEMS]
    named += [(f"新{stem}町", f"しん{kana}ちょう") for stem, kana in STEMS[:35]]
    return tuple(rg.DomicileMunicipality(f"99{i:04d}", name, participates=i % 17 != 5,
                                         kana=kana)
                 for i, (name, kana) in enumerate(named, start=1))


INDEXED = _indexed()


def at_index(found: tuple[rg.DomicileMunicipality, ...] = INDEXED) -> Registration:
    r = at_prefectures()
    feed(r, [rg.PrefectureChosen("99"), rg.MunicipalitiesListed("99", found)])
    return r


@pytest.mark.parametrize(("given", "expected"), [
    ("かくうし", "かくうし"),
    ("カソウチョウ", "かそうちょう"),  # katakana is folded to hiragana
    ("ミホンむら", "みほんむら"),
    ("がっこう", "がっこう"),
    ("ゔぁーちゃる", "ゔぁーちゃる"),
    ("", ""), ("ｶｸｳｼ", ""), ("kakuushi", ""), ("架空市", ""), ("かくう し", ""),
    ("ーかくう", ""), ("ゝかくう", ""), ("あ" * 41, ""), (None, ""), (42, ""),
    (["かくうし"], ""),
])
def test_a_reading_is_kana_of_bounded_length_or_nothing(given, expected):
    assert rg.reading(given) == expected


@pytest.mark.parametrize(("text", "row"), [
    ("あおば", "a"), ("ぎんざん", "ka"), ("じんぐう", "sa"), ("づつみ", "ta"), ("ばば", "ha"),
    ("ぱんだ", "ha"), ("ぁ", "a"), ("ゔ", "a"), ("ょいち", "ya"), ("わっさむ", "wa"),
    ("をか", "wa"), ("", None), ("ー", None),
])
def test_the_kana_row_is_that_of_the_first_kana_without_its_marks(text, row):
    assert rg.kana_row(text) == row


def test_a_long_list_with_readings_gets_an_index_with_empty_rows_greyed():
    """Given 179 municipalities with readings over every row but わ, then the view has
    the ten rows, わ without municipalities, and the whole list is shown: 15 pages."""
    v = at_index().view()
    assert [row for row, _ in v.kana_index] == list(rg.KANA_ROWS)
    assert dict(v.kana_index) == {row: row != "wa" for row in rg.KANA_ROWS}
    assert (v.kana_row, v.page, v.pages, len(v.municipalities)) == ("", 0, 15, 179)
    assert v.municipalities == INDEXED  # the center's order


def test_a_row_filters_to_its_municipalities_sorted_by_reading():
    r = at_index()
    assert said(r.handle(rg.KanaRowChosen("ka"))) == []  # a control, like paging: quiet
    v = r.view()
    assert v.kana_row == "ka" and (v.page, v.pages) == (0, 2)  # 24 in the か row
    assert all(rg.kana_row(m.kana) == "ka" for m in v.municipalities)
    assert len(v.municipalities) == 24
    assert [m.kana for m in v.municipalities] == sorted(m.kana for m in v.municipalities)
    assert v.municipalities[0].name == "柏木市" and v.municipalities[-1].name == "小泉村"
    assert "銀山町" in {m.name for m in v.municipalities}  # ぎ is in the か row


def test_paging_within_a_row_then_all_returns_to_the_whole_list():
    r = at_index()
    feed(r, [rg.NextPagePressed(), rg.KanaRowChosen("sa")])
    assert (r.view().page, r.view().pages) == (0, 5)  # a row starts on its first page
    feed(r, [rg.NextPagePressed()] * 9)
    assert r.view().page == 4 and len(r.view().municipalities) == 53
    r.handle(rg.KanaRowChosen("ya"))
    assert (r.view().page, r.view().pages, len(r.view().municipalities)) == (0, 1, 9)
    r.handle(rg.NextPagePressed())
    assert r.view().page == 0
    r.handle(rg.KanaRowChosen(rg.ALL_ROWS))
    v = r.view()
    assert (v.kana_row, v.page, v.pages, v.municipalities) == ("", 0, 15, INDEXED)


def test_a_row_without_municipalities_or_unknown_cannot_be_chosen():
    r = at_index()
    r.handle(rg.KanaRowChosen("ma"))
    for row in ("wa", "xa", "あ"):
        r.handle(rg.KanaRowChosen(row))
        assert r.view().kana_row == "ma"


def test_a_municipality_is_chosen_from_its_row_and_back_shows_that_row_and_page():
    r = at_index()
    feed(r, [rg.KanaRowChosen("sa"), rg.NextPagePressed(), rg.NextPagePressed()])
    picked = r.view().municipalities[26]
    assert picked.participates
    r.handle(rg.DomicileMunicipalityChosen(picked.code))
    assert r.step is Step.ADDRESS and r.view().municipality == picked
    assert r.view().kana_index == ()  # only on the municipality list
    r.handle(rg.PreviousPressed())
    v = r.view()
    assert (v.step, v.kana_row, v.page) == (Step.MUNICIPALITY, "sa", 2)


def test_a_new_list_starts_with_all_and_the_index_is_only_for_municipalities():
    r = at_index()
    r.handle(rg.KanaRowChosen("na"))
    r.handle(rg.PreviousPressed())
    assert r.step is Step.PREFECTURE and r.view().kana_index == ()
    r.handle(rg.KanaRowChosen("ka"))  # no index here: ignored
    r.handle(rg.PrefectureChosen("99"))
    assert r.view().kana_row == ""  # waiting for the list: nothing filtered
    r.handle(rg.MunicipalitiesListed("99", INDEXED))
    assert r.view().kana_row == "" and r.view().pages == 15


def test_lists_without_readings_or_short_lists_have_no_index():
    for found in (MANY, INDEXED[:rg.PAGE_SIZE]):
        r = at_index(found)
        r.handle(rg.KanaRowChosen("a"))
        v = r.view()
        assert v.kana_index == () and v.kana_row == "" and v.municipalities == found


def test_municipalities_without_a_reading_are_under_all_only():
    unread = rg.DomicileMunicipality("990999", "読無町")
    r = at_index((unread, *INDEXED[1:]))
    assert dict(r.view().kana_index)["a"] is True
    every_row = set()
    for row, used in r.view().kana_index:
        if used:
            r.handle(rg.KanaRowChosen(row))
            every_row |= {m.code for m in r.view().municipalities}
    assert "990999" not in every_row and len(every_row) == 178
    r.handle(rg.KanaRowChosen(rg.ALL_ROWS))
    assert r.view().municipalities[0] == unread


def test_wipe_forgets_the_kana_row():
    r = at_index()
    feed(r, [rg.KanaRowChosen("ta"), rg.NextPagePressed()])
    r.wipe()
    v = r.view()
    assert (v.kana_row, v.kana_index, v.municipalities, v.page) == ("", (), (), 0)


# ---------------------------------------------------------------- voice


def said(out: list) -> list[str]:
    return [c.prompt for c in out if isinstance(c, Say)]


def test_each_step_is_said_once_on_arrival():
    r = Registration("key-1")
    assert said(r.announce()) == ["reg_menu"]
    assert said(r.handle(rg.ApplyChosen())) == ["reg_prefecture"]
    assert said(r.handle(rg.PrefecturesListed(PREFS, TODAY))) == []  # same screen
    assert said(r.handle(rg.NextPagePressed())) == []
    assert said(r.handle(rg.PrefectureChosen("13"))) == ["reg_municipality"]
    assert said(r.handle(rg.MunicipalitiesListed("13", CITIES))) == []
    assert said(r.handle(rg.DomicileMunicipalityChosen("999931"))) == [
        "reg_problem_not_participating"]
    assert said(r.handle(rg.DomicileMunicipalityChosen("999921"))) == ["reg_address"]
    assert said(feed(r, keys("みほん"))) == []  # typing is quiet
    assert said(r.handle(rg.PreviousPressed())) == ["reg_municipality"]


def test_refusals_notices_and_statuses_are_said():
    r = at(Step.PHONE)
    assert said(feed(r, [*keys("123"), rg.NextPressed()])) == ["reg_problem_phone"]
    r = at(Step.CARD)
    r.card_done()
    assert said(r.announce()) == ["reg_confirm"]
    r.handle(rg.ApplicationConfirmed())
    assert said(r.handle(rg.RegistrationCenterFailed("center_unreachable"))) == [
        "error_center_unreachable"]
    r = at(Step.MENU)
    feed(r, [rg.StatusChosen(), *keys("481603927514"), rg.NextPressed()])
    assert said(r.handle(rg.StatusReported("481603927514", rg.ApplicationStatus.REJECTED))) == [
        "reg_status_rejected"]


def test_an_empty_municipality_list_is_said_once():
    r = at_prefectures()
    r.handle(rg.PrefectureChosen("01"))
    assert said(r.handle(rg.MunicipalitiesListed("01", ()))) == ["reg_no_municipality"]
    assert said(r.handle(rg.NextPagePressed())) == []


def test_every_registration_prompt_is_a_known_prompt():
    from kiosk.core.prompts import ALL_PROMPTS

    assert rg.REGISTRATION_PROMPTS <= ALL_PROMPTS
    assert set(rg.STEP_PROMPTS) == set(Step) - {Step.CARD, Step.STATUS_RESULT}


# ---------------------------------------------------------------- in the session

def _session_at_card():
    from kiosk.core import State
    from kiosk.core import events as ev
    from tests.core.helpers import feed as sfeed
    from tests.core.helpers import reach

    s = reach(State.TERMS)
    sfeed(s, [rg.RegistrationRequested()])
    assert s.state is State.REGISTER
    reg = s._t.registration
    assert reg is not None
    # the same inputs as at(Step.CARD), through the session
    template = at(Step.CARD)
    reg.__dict__.update({k: v for k, v in template.__dict__.items() if k != "_key"})
    reg.step = Step.REVIEW
    sfeed(s, [rg.NextPressed()])
    assert s.state is State.PLACE_CARD
    return s, ev, sfeed


def test_session_runs_the_card_steps_then_shows_the_application():
    from kiosk.center.fake import FICTIONAL_MENU
    from kiosk.core import State
    from kiosk.core import commands as cmd
    from tests.core.helpers import PIN_OK

    s, ev, sfeed = _session_at_card()
    sfeed(s, [ev.Back()])
    assert s.state is State.REGISTER and s.view().registration.step is Step.REVIEW
    sfeed(s, [rg.NextPressed(), ev.CardInserted(), ev.CardRead(3), *PIN_OK, ev.PinVerified(),
              ev.CenterSessionOpened(), ev.ResidentAuthenticated(FICTIONAL_MENU)])
    assert s.state is State.REMOVE_CARD
    sfeed(s, [ev.CardRemoved()])
    assert s.state is State.REGISTER and s.view().registration.step is Step.CONFIRM
    out = s.handle(rg.ApplicationConfirmed())
    submit = [c for c in out if isinstance(c, rg.SubmitApplication)]
    assert len(submit) == 1 and submit[0].application.phone == "09012345678"
    sfeed(s, [rg.ApplicationAccepted("481603927514", "2026-11-23"),
              rg.PrintNumberRequested(), rg.NumberPrinted(True), rg.RegistrationClosed()])
    assert s.state is State.TAKE_PRINTOUT
    reg = s._t.registration
    out = sfeed(s, [ev.TrayChanged(True), ev.TrayChanged(False)])
    assert s.state is State.WIPE and cmd.Wipe() in out
    assert reg.view().fields == () and reg.number == ""
    sfeed(s, [ev.WipeDone(True)])
    assert s.state is State.IDLE and s._t.registration is None and s.view().registration is None


def test_cancel_in_the_form_wipes_what_was_typed():
    from kiosk.core import State

    s, ev, sfeed = _session_at_card()
    reg = s._t.registration
    sfeed(s, [ev.Back(), ev.Cancel()])
    assert s.state is State.WIPE
    assert reg.view().fields == ()
    text = " ".join(repr(c) for c in sfeed(s, [ev.WipeDone(True)]))
    assert "0901234" not in text


def test_back_from_the_registration_menu_returns_to_the_terms():
    from kiosk.core import State
    from kiosk.core import events as ev
    from tests.core.helpers import feed as sfeed
    from tests.core.helpers import reach

    s = reach(State.TERMS)
    sfeed(s, [rg.RegistrationRequested(), ev.Back()])
    assert s.state is State.TERMS and s._t.registration is None
    sfeed(s, [ev.TermsAccepted()])
    assert s.state is State.PLACE_CARD  # the normal flow is unchanged


def test_the_address_keyboard_switches_to_digits_and_back():
    r = at(Step.ADDRESS)
    feed(r, [*keys("みほん"), rg.KeyboardSwitched()])
    assert r.view().keyboard is rg.Keyboard.DIGITS and r.view().text == "みほん"
    feed(r, [*keys("3-4"), rg.KeyboardSwitched()])
    assert r.view().keyboard is rg.Keyboard.KANA and r.view().text == "みほん3-4"
    r = at(Step.PHONE)
    r.handle(rg.KeyboardSwitched())
    assert r.view().keyboard is rg.Keyboard.DIGITS  # a digits field has nothing to switch
