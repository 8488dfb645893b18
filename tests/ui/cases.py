"""Every screen variant the screenshot tests draw, as realistic views.

Views come from a real :class:`~kiosk.core.Session` driven to each state
(``tests.core.helpers.reach``); variants the happy path does not reach (a wrong
PIN, an alarm at level 2, a kind that is closed now) are the same view with the
fields the core would set, changed with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.core import State, View
from kiosk.core import registration as rg
from kiosk.core.maintenance_mode import (
    Action,
    ActionFinished,
    CoinBox,
    DeviceStatus,
    HopperStatus,
    IncidentItem,
    LoginGuard,
    LoginRecord,
    Maintenance,
    MaintenanceStatus,
    MaintenanceView,
    Page,
    Pending,
    Problem,
    Role,
)
from kiosk.core.menu import (
    CertificateKind,
    ErrorCode,
    HouseholdMember,
    KindOffer,
    Municipality,
    OptionSpec,
    Relation,
)
from kiosk.core.registration import RegistrationView, Step
from tests.core.helpers import reach, reach_special


def _view(state: State, language: str) -> View:
    view = reach_special(state).view()
    return replace(view, language=language)


UNAVAILABLE_CITY = Municipality("999933", "見本村", Relation.DOMICILE, kana="みほんむら", kinds=(
    KindOffer(CertificateKind.KOSEKI_FULL, 450, 5, available=False,
              unavailable_reason=ErrorCode.OUTSIDE_HOURS, hours="平日 9:00–17:00"),
    KindOffer(CertificateKind.KOSEKI_INDIVIDUAL, 450, 5, available=False,
              unavailable_reason=ErrorCode.OUTSIDE_HOURS, hours="平日 9:00–17:00"),
    KindOffer(CertificateKind.KOSEKI_ATTACHMENT, 300, 5, available=False,
              unavailable_reason=ErrorCode.MUNICIPALITY_OFFLINE),
    KindOffer(CertificateKind.RESIDENCE_ITEMS, 300, 5, available=False,
              unavailable_reason=ErrorCode.KIND_NOT_OFFERED),
    KindOffer(CertificateKind.SEAL, 300, 10),
    KindOffer(CertificateKind.TAX, 300, 5, available=False,
              unavailable_reason=ErrorCode.RESTRICTED),
    KindOffer(CertificateKind.RESIDENCE, 300, 10),
))

FOREIGN_OPTIONS = (
    OptionSpec("scope", ("self", "household", "members")),
    OptionSpec("head_relation", ("no", "yes")),
    OptionSpec("my_number", ("no", "yes")),
    OptionSpec("nationality", ("no", "yes")),
    OptionSpec("residence_card", ("no", "yes")),
    OptionSpec("residence_status", ("no", "yes")),
)

BIG_HOUSEHOLD = (
    HouseholdMember("m1", "見本 太郎"), HouseholdMember("m2", "見本 花子"),
    HouseholdMember("m3", "見本 一郎"), HouseholdMember("m4", "Nguyễn Thị Mai"),
)


NINE = tuple(HouseholdMember(f"m{i}", name) for i, name in enumerate(
    ("見本 太郎", "見本 花子", "見本 一郎", "見本 二郎", "見本 三郎", "見本 春子",
     "見本 夏子", "Trần Văn An", "見本 冬子"), start=1))


def cases(language: str) -> dict[str, View]:
    """Screen-variant name → view, in ``language``."""
    v = {s: _view(s, language) for s in State if s is not State.SIGN}
    v[State.SIGN] = replace(reach(State.SIGN).view(), language=language)
    out: dict[str, View] = {
        "idle": v[State.IDLE],
        "idle_closed": replace(v[State.IDLE], service_open=False, reopens="6:30",
                               notice="closed"),
        "idle_printout_in_tray": replace(v[State.IDLE], printout_in_tray=True,
                                         notice="printout_in_tray"),
        "idle_card_left_behind": replace(v[State.IDLE], card_left_behind=True),
        "idle_out_of_service": replace(v[State.IDLE], notice="out_of_service"),
        "idle_draining": replace(v[State.IDLE], draining=True),
        # a kiosk whose config offers two languages: two names, centred
        "idle_two_languages": replace(v[State.IDLE], languages=("ja", "en")),
        "out_of_service_two_languages": replace(v[State.OUT_OF_SERVICE], languages=("ja", "en")),
        "language": v[State.LANGUAGE],
        "terms": v[State.TERMS],
        "place_card": v[State.PLACE_CARD],
        "hold_again": replace(v[State.PLACE_CARD], notice="hold_again"),
        "read_card": v[State.READ_CARD],
        "pin": v[State.PIN],
        "pin_typed": replace(v[State.PIN], pin_length=3),
        "pin_wrong": replace(v[State.PIN], tries_left=2, notice="wrong_pin"),
        "pin_one_left": replace(v[State.PIN], tries_left=1, notice="wrong_pin_one_left"),
        "pin_verifying": replace(v[State.PIN], pin_length=4, verifying=True),
        "pin_again": replace(v[State.PIN], notice="pin_again"),
        "sign": v[State.SIGN],
        "remove_card": v[State.REMOVE_CARD],
        "remove_card_alarm": replace(v[State.REMOVE_CARD], alarm_level=2),
        "choose_municipality": v[State.CHOOSE_MUNICIPALITY],
        "choose_kind": v[State.CHOOSE_KIND],
        "choose_kind_unavailable": replace(v[State.CHOOSE_KIND], municipality=UNAVAILABLE_CITY,
                                           notice=ErrorCode.OUTSIDE_HOURS.value),
        "choose_options": v[State.CHOOSE_OPTIONS],
        "choose_options_members": replace(
            v[State.CHOOSE_OPTIONS], household=BIG_HOUSEHOLD,
            options=(("scope", "members"), ("head_relation", "yes"), ("domicile", "no"),
                     ("my_number", "no")), notice="choose_members"),
        "choose_options_nine_members": replace(
            v[State.CHOOSE_OPTIONS], household=NINE, members=("m1", "m9"),
            options=(("scope", "members"), ("head_relation", "no"), ("domicile", "no"),
                     ("my_number", "no"))),
        "choose_options_foreign": replace(
            v[State.CHOOSE_OPTIONS], offer=KindOffer(CertificateKind.RESIDENCE, 300, 10,
                                                     FOREIGN_OPTIONS),
            options=tuple((o.key, o.default) for o in FOREIGN_OPTIONS)),
        "choose_options_tax": replace(
            v[State.CHOOSE_OPTIONS],
            offer=KindOffer(CertificateKind.TAX, 300, 5,
                            (OptionSpec("tax_year", ("2026", "2025", "2024", "2023")),)),
            options=(("tax_year", "2026"),)),
        "choose_copies": v[State.CHOOSE_COPIES],
        "choose_copies_invalid": replace(v[State.CHOOSE_COPIES], notice="invalid_copies"),
        "confirm": v[State.CONFIRM],
        "confirm_members": replace(
            v[State.CONFIRM], household=BIG_HOUSEHOLD, members=("m1", "m4"),
            options=(("scope", "members"), ("head_relation", "yes"), ("domicile", "yes"),
                     ("my_number", "no"))),
        "download": v[State.DOWNLOAD],
        "pay": v[State.PAY],
        "pay_partial": replace(v[State.PAY], credited=100, remaining=500),
        "print": replace(v[State.PRINT], pages_done=1),
        "receipt": v[State.RECEIPT],
        "take_printout": v[State.TAKE_PRINTOUT],
        "take_printout_alarm": replace(v[State.TAKE_PRINTOUT], alarm_level=2),
        "take_printout_after_failure": replace(v[State.TAKE_PRINTOUT],
                                               error=ErrorCode.PRINTER_FAULT),
        "refund": v[State.REFUND],
        "refund_owed": replace(v[State.REFUND], refund=500, owed=100),
        "card_left": v[State.CARD_LEFT],
        "card_left_alarm": replace(v[State.CARD_LEFT], alarm_level=3),
        "wipe": v[State.WIPE],
        "out_of_service": v[State.OUT_OF_SERVICE],
        "maintenance": v[State.MAINTENANCE],
        "more_time": replace(v[State.PIN], more_time=True),
    }
    for code in ErrorCode:
        out[f"error_{code.value}"] = replace(v[State.ERROR], error=code)
    out["error_payment_fault_owed"] = replace(v[State.ERROR], error=ErrorCode.PAYMENT_FAULT,
                                              owed=100)
    for name, mv in maintenance_views().items():
        out[name] = replace(v[State.MAINTENANCE], maintenance=mv)
    for name, rv in registration_views().items():
        out[name] = replace(v[State.REGISTER], registration=rv)
    return out


def registration_views() -> dict[str, RegistrationView]:
    """Every registration step, from a real sub-machine (fictional data only)."""
    from tests.core.test_registration import at

    base = at(Step.MENU).view()
    out: dict[str, RegistrationView] = {"register": base}
    for step in (Step.PREFECTURE, Step.MUNICIPALITY, Step.ADDRESS, Step.HEAD, Step.PHONE,
                 Step.BIRTH, Step.EXPIRY, Step.CODE, Step.REVIEW):
        out[f"register_{step.value}"] = at(step).view()
    head = at(Step.HEAD)
    for key in "さとう":
        head.handle(rg.KeyTyped(key))
    out["register_head_typing"] = head.view()
    head.handle(rg.ConvertPressed())
    out["register_head_candidates"] = head.view()
    address = at(Step.ADDRESS)
    for key in "みほん":
        address.handle(rg.KeyTyped(key))
    address.handle(rg.KeyboardSwitched())
    out["register_address_digits"] = address.view()
    out.update(paged_registration_views())
    out["register_municipality_not_participating"] = replace(
        at(Step.MUNICIPALITY).view(), problem=rg.Problem.NOT_PARTICIPATING)
    out["register_head_required"] = replace(at(Step.HEAD).view(), problem=rg.Problem.REQUIRED)
    out["register_phone_invalid"] = replace(at(Step.PHONE).view(), text="12345",
                                            problem=rg.Problem.PHONE)
    out["register_birth_invalid"] = replace(at(Step.BIRTH).view(), text="19800230",
                                            problem=rg.Problem.DATE)
    out["register_expiry_past"] = replace(at(Step.EXPIRY).view(), text="20201231",
                                          problem=rg.Problem.EXPIRED)
    out["register_code_invalid"] = replace(at(Step.CODE).view(), text="123",
                                           problem=rg.Problem.CODE)
    card = at(Step.CARD)
    card.card_done()
    out["register_confirm"] = card.view()
    out["register_confirm_unreachable"] = replace(card.view(), notice="center_unreachable")
    out["register_submitting"] = replace(card.view(), step=Step.SUBMITTING)
    done = replace(base, step=Step.DONE, number="481603927514", date="2026-11-23")
    out["register_done"] = done
    out["register_done_printed"] = replace(done, printed=True)
    out["register_printing"] = replace(done, step=Step.PRINTING)
    out["register_status_number"] = replace(base, step=Step.STATUS_NUMBER,
                                            keyboard=rg.Keyboard.DIGITS, text="4816039275")
    out["register_status_number_invalid"] = replace(
        out["register_status_number"], text="12345", problem=rg.Problem.NUMBER)
    out["register_status_number_check"] = replace(
        out["register_status_number"], text="481603927515", problem=rg.Problem.NUMBER_CHECK)
    out["register_status_number_throttled"] = replace(
        out["register_status_number"], text="", notice="too_many_checks")
    out["register_status_wait"] = replace(base, step=Step.STATUS_WAIT)
    result = replace(base, step=Step.STATUS_RESULT, number="481603927514")
    for status in rg.ApplicationStatus:
        out[f"register_status_{status.value}"] = replace(result, status=status)
    out["register_status_rejected"] = replace(
        result, status=rg.ApplicationStatus.REJECTED,
        contact="見本市役所 市民課 戸籍係　電話 0000-00-0000（平日 8:30–17:15）")
    return out


def paged_registration_views() -> dict[str, RegistrationView]:
    """The real-sized lists: 47 prefectures + the fictional one, many municipalities, none."""
    from hw_emulator.center.server import PREFECTURE, REAL_PREFECTURES
    from tests.core.test_registration import TODAY

    prefectures = tuple(rg.Prefecture(c, n) for c, n in (*REAL_PREFECTURES, PREFECTURE))
    r = rg.Registration("key-1")
    r.handle(rg.ApplyChosen())
    r.handle(rg.PrefecturesListed(prefectures, TODAY))
    r.handle(rg.NextPagePressed())
    out = {"register_prefecture_page2": r.view()}
    for _ in range(3):
        r.handle(rg.NextPagePressed())
    out["register_prefecture_last_page"] = r.view()
    r.handle(rg.PrefectureChosen("99"))
    towns = tuple(rg.DomicileMunicipality(f"99{i:04d}", f"{name}町", participates=i != 14)
                  for i, name in enumerate(("見本", "仮想", "架空", "試験", "模擬", "空想", "想定",
                                            "例示", "雛形", "見立", "擬似", "名目", "無名",
                                            "仮称", "不参加", "未定", "予定", "代替"), start=1))
    r.handle(rg.MunicipalitiesListed("99", towns))
    r.handle(rg.NextPagePressed())
    out["register_municipality_page2"] = r.view()
    r.handle(rg.PreviousPressed())
    r.handle(rg.PreviousPagePressed())
    r.handle(rg.PreviousPagePressed())
    r.handle(rg.PrefectureChosen("01"))
    r.handle(rg.MunicipalitiesListed("01", ()))
    out["register_municipality_none"] = r.view()
    out.update(kana_index_views(r))
    return out


def kana_index_views(r: rg.Registration) -> dict[str, RegistrationView]:
    """A real-sized list with readings (179 fictional municipalities, none in the わ row):
    the kana index on the whole list, on a row of two pages, deep in a row of five,
    on a row that fits on one page."""
    from tests.core.test_registration import INDEXED

    r.handle(rg.PreviousPressed())
    r.handle(rg.PrefectureChosen("99"))
    r.handle(rg.MunicipalitiesListed("99", INDEXED))
    out = {"register_municipality_index": r.view()}
    r.handle(rg.KanaRowChosen("ka"))
    out["register_municipality_index_row"] = r.view()
    r.handle(rg.KanaRowChosen("sa"))
    r.handle(rg.NextPagePressed())
    r.handle(rg.NextPagePressed())
    out["register_municipality_index_row_page3"] = r.view()
    r.handle(rg.KanaRowChosen("ya"))
    out["register_municipality_index_short_row"] = r.view()
    r.handle(rg.DomicileMunicipalityChosen(INDEXED[89].code))  # 湯川町: does not take part
    out["register_municipality_index_not_participating"] = r.view()
    return out


#: A kiosk after a bad evening: a jam, toner low, a low hopper, money owed, alerts.
TROUBLED = MaintenanceStatus(
    devices=(DeviceStatus("card_reader"), DeviceStatus("coin_acceptor"),
             DeviceStatus("printer", Problem.JAM, "media-jam,toner-low"),
             DeviceStatus("tray", Problem.TRAY_FULL), DeviceStatus("center")),
    hoppers=(HopperStatus(100, 12, low=True), HopperStatus(10, 180)),
    incidents=(IncidentItem(3, "REFUND-OWED", 150, 150, "11-24 10:02"),
               IncidentItem(7, "CHANGE-OWED", 400, 400, "11-24 18:40"),
               IncidentItem(9, "PAYOUT-UNRESOLVED", 300, 300, "11-24 19:05"),
               IncidentItem(11, "REFUND-OWED", 1200, 700, "11-24 21:15"),
               IncidentItem(12, "REFUND-OWED", 300, 300, "11-24 21:30")),
    coinbox=CoinBox(inserted=48_300, kept=41_250, paid_out=6_900, since="2026-11-23 07:05"),
    alerts=("card_left", "printout_left"),
    version="0.1.0",
    config=(("source", "/etc/kiosk/kiosk.toml"), ("kiosk.id", "KIOSK-0001"),
            ("kiosk.store", "見本マート 架空店"), ("kiosk.state_dir", "/var/lib/kiosk"),
            ("kiosk.languages", "ja, en, zh, ko, pt, vi"), ("devices.card", "pcsc"),
            ("devices.coins", "cctalk"), ("devices.printer", "cups"), ("devices.audio", "pygame"),
            ("devices.tray", "emulator"), ("devices.maintenance_key", "emulator"),
            ("center.kind", "https"), ("center.url", "https://center.example:8443"),
            ("center.ca", "/etc/kiosk/tls/ca.pem"), ("center.cert", "/etc/kiosk/tls/kiosk.pem"),
            ("center.key", "(set)"), ("center.timeout", "10.0"), ("ui.kind", "pygame"),
            ("ui.fullscreen", "True"), ("ui.width", "1024"), ("ui.height", "600"),
            ("automation.enabled", "False"), ("maintenance.staff_password", "(set)"),
            ("maintenance.engineer_password", "(set)"), ("maintenance.lock_after", "20"),
            ("maintenance.wait_from", "3"), ("maintenance.first_wait", "1.0"),
            ("maintenance.max_wait", "60.0"),
            ("maintenance.audit_log", "/var/lib/kiosk/audit.jsonl"),
            ("maintenance.metrics_file", "/var/lib/node_exporter/textfile/kiosk.prom"),
            ("maintenance.export_dir", "/media/usb"), ("log_level", "INFO")),
    selftests=(("card", True, "tries 3"), ("coins", False, "COIN-TIMEOUT")),
)


def maintenance_views() -> dict[str, MaintenanceView]:
    """Every maintenance page; the login pages come from a real mode."""
    first = Maintenance(LoginGuard(), now=0.0).view()
    staff = MaintenanceView(page=Page.MENU, role=Role.STAFF, status=TROUBLED)
    engineer = replace(staff, role=Role.ENGINEER)
    locks = (LoginRecord(Role.STAFF, 20, locked=True, cleared="login"),
             LoginRecord(Role.ENGINEER, 2, cleared="login"))
    return {
        "maintenance_role": first,
        "maintenance_password": replace(first, page=Page.PASSWORD, login_role=Role.STAFF,
                                        typed=6),
        "maintenance_password_wrong": replace(first, page=Page.PASSWORD,
                                              login_role=Role.ENGINEER, notice="wrong_password",
                                              attempts_left=2),
        "maintenance_password_wait": replace(first, page=Page.PASSWORD, login_role=Role.STAFF,
                                             notice="wait", wait_seconds=16, attempts_left=13),
        "maintenance_password_wrong_uncounted": replace(
            first, page=Page.PASSWORD, login_role=Role.ENGINEER, notice="wrong_password",
            counted=False),
        "maintenance_locked": replace(first, page=Page.LOCKED, login_role=Role.STAFF,
                                      notice="locked"),
        "maintenance_locked_engineer": replace(first, page=Page.LOCKED,
                                               login_role=Role.ENGINEER, notice="locked"),
        "maintenance_menu_staff": replace(staff, result=ActionFinished(Action.TEST_PRINT, True)),
        "maintenance_menu_engineer": replace(engineer, busy=Action.CLEAR_JAM),
        "maintenance_menu_out": replace(staff, status=replace(TROUBLED, out_of_service=True,
                                                              incidents=(), alerts=())),
        "maintenance_status": replace(staff, page=Page.STATUS),
        "maintenance_hoppers": replace(staff, page=Page.HOPPERS),
        "maintenance_refill": replace(staff, page=Page.REFILL, hopper=100, keypad="120"),
        "maintenance_coinbox": replace(staff, page=Page.COINBOX),
        "maintenance_incidents": replace(staff, page=Page.INCIDENTS, result=ActionFinished(
            Action.PAY_INCIDENT, False, "CHANGE-NO-COINS")),
        "maintenance_incidents_none": replace(staff, page=Page.INCIDENTS,
                                              status=replace(TROUBLED, incidents=())),
        "maintenance_alerts": replace(staff, page=Page.ALERTS),
        "maintenance_confirm_pay": replace(staff, page=Page.CONFIRM, pending=Pending(
            Action.PAY_INCIDENT, 3, 150)),
        "maintenance_confirm_collect": replace(staff, page=Page.CONFIRM, pending=Pending(
            Action.COLLECT, 0, 48_300)),
        "maintenance_confirm_refill": replace(staff, page=Page.CONFIRM, pending=Pending(
            Action.REFILL, 100, 120)),
        "maintenance_confirm_out": replace(staff, page=Page.CONFIRM, pending=Pending(
            Action.OUT_OF_SERVICE)),
        "maintenance_status_engineer": replace(engineer, page=Page.STATUS, logins=locks),
        "maintenance_logins": replace(engineer, page=Page.LOGINS, logins=locks),
        "maintenance_logins_key": replace(engineer, page=Page.LOGINS, logins=(
            LoginRecord(Role.STAFF, 0, armed=False),
            LoginRecord(Role.ENGINEER, 20, locked=True, cleared="key"))),
        "maintenance_logins_clean": replace(engineer, page=Page.LOGINS, logins=(
            LoginRecord(Role.STAFF), LoginRecord(Role.ENGINEER))),
        "maintenance_selftest": replace(engineer, page=Page.SELFTEST),
        "maintenance_system": replace(engineer, page=Page.SYSTEM),
    }
