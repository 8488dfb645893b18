"""The emulated center's world: fictional municipalities, residents and their rules.

Loaded from ``fictional.toml`` (shipped next to this module). The rules mirror
what municipalities publish (kiosk-service.md §2, §7): each municipality picks its
kinds, fees, copy limits and hours per kind; the service-wide window applies on
top; DV protection blocks issuance; a person whose 本籍 is elsewhere needs a
利用登録 before the domicile municipality issues koseki at a kiosk.

Everything here is pure (time is an argument) so the server and tests agree.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

JST = dt.timezone(dt.timedelta(hours=9), "JST")
KOSEKI_KINDS = ("koseki_full", "koseki_individual", "koseki_attachment")
RESIDENCE_KINDS = ("residence", "residence_items")
MIN_AGE = 15


class Refused(Exception):
    """The center refuses a call; ``code`` is the protocol's error code (§7)."""

    def __init__(self, code: str, status: int = 403) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class KindRule:
    kind: str
    fee: int
    max_copies: int
    days: str  # "daily" / "weekdays"
    start: dt.time
    end: dt.time
    tax_years: tuple[int, ...] = ()

    @property
    def hours_label(self) -> str:
        days = "平日" if self.days == "weekdays" else "毎日"
        return f"{days} {self.start:%-H:%M}–{self.end:%-H:%M}"


@dataclass(frozen=True)
class MunicipalityData:
    code: str
    name: str
    mayor: str
    office_address: str
    kinds: dict[str, KindRule]
    kana: str = ""  # the name's reading in hiragana (the registration list's kana index)


@dataclass(frozen=True)
class Domicile:
    municipality: str
    address: str
    head: str


@dataclass(frozen=True)
class Resident:
    id: str
    name: str = field(repr=False)
    kana: str = field(repr=False)
    birth: dt.date = field(repr=False)
    sex: str = field(repr=False)
    municipality: str
    address: str = field(repr=False)
    household: str
    relation: str = field(repr=False)
    became_resident: dt.date = field(repr=False)
    card_serial: int
    card_status: str = "valid"
    domicile: Domicile | None = field(default=None, repr=False)
    koseki_registered: bool = False
    nationality: str = ""
    residence_card: str = field(default="", repr=False)
    residence_status: str = ""
    residence_period: str = ""
    my_number: str = field(default="", repr=False)
    seal: str = field(default="", repr=False)
    tax: dict[str, int] = field(default_factory=dict, repr=False)
    restricted: bool = False
    moved_out: bool = False

    @property
    def foreign(self) -> bool:
        return bool(self.nationality)

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth.year
        return years - ((day.month, day.day) < (self.birth.month, self.birth.day))


def _time(text: str) -> dt.time:
    return dt.datetime.strptime(text, "%H:%M").time()


def _hours(text: str) -> tuple[str, dt.time, dt.time]:
    days, span = text.split()
    start, end = span.split("-")
    if days not in ("daily", "weekdays"):
        raise ValueError(f"unknown hours {text!r}")
    return days, _time(start), _time(end)


@dataclass(frozen=True)
class World:
    municipalities: dict[str, MunicipalityData]
    residents: dict[str, Resident]
    open: dt.time
    close: dt.time
    closed_days: frozenset[str]
    verify_site: str

    @classmethod
    def load(cls, path: Path | None = None) -> World:
        if path is None:
            text = resources.files(__package__).joinpath("fictional.toml").read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data = tomllib.loads(text)
        municipalities = {}
        for m in data["municipality"]:
            kinds = {}
            for k in m["kind"]:
                days, start, end = _hours(k["hours"])
                kinds[k["kind"]] = KindRule(k["kind"], int(k["fee"]), int(k["max_copies"]),
                                            days, start, end,
                                            tuple(int(y) for y in k.get("tax_years", ())))
            municipalities[m["code"]] = MunicipalityData(m["code"], m["name"], m["mayor"],
                                                         m["office_address"], kinds,
                                                         m.get("kana", ""))
        residents = {}
        for r in data["resident"]:
            residents[r["id"]] = _resident(r)
        service = data["service"]
        return cls(municipalities, residents, _time(service["open"]), _time(service["close"]),
                   frozenset(service["closed_days"]), service["verify_site"])

    # lookups -------------------------------------------------------------------
    def resident_by_serial(self, serial: int) -> Resident | None:
        return next((r for r in self.residents.values() if r.card_serial == serial), None)

    def household_of(self, resident: Resident) -> list[Resident]:
        members = [r for r in self.residents.values() if r.household == resident.household]
        return sorted(members, key=lambda r: (r.relation != "世帯主", r.birth))

    def koseki_members(self, resident: Resident) -> list[Resident]:
        """Everyone in the same 戸籍 (same domicile address and head)."""
        if resident.domicile is None:
            return []
        same = [r for r in self.residents.values() if r.domicile == resident.domicile]
        return sorted(same, key=lambda r: (r.name != resident.domicile.head, r.birth))

    # rules ---------------------------------------------------------------------
    def check_card_holder(self, resident: Resident, now: dt.datetime) -> None:
        if resident.age_on(now.astimezone(JST).date()) < MIN_AGE:
            raise Refused("under_age")

    def service_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(JST)
        if f"{local:%m-%d}" in self.closed_days:
            return False
        return self.open <= local.time() < self.close

    def within_hours(self, rule: KindRule, now: dt.datetime) -> bool:
        local = now.astimezone(JST)
        if not self.service_open(now):
            return False
        if rule.days == "weekdays" and local.weekday() >= 5:
            return False
        return rule.start <= local.time() < rule.end

    def offers_for(self, resident: Resident) -> list[tuple[MunicipalityData, str]]:
        """(municipality, relation) pairs this resident may ask, residence first."""
        out = [(self.municipalities[resident.municipality], "residence")]
        dom = resident.domicile
        if dom is not None and dom.municipality != resident.municipality \
                and dom.municipality in self.municipalities:
            out.append((self.municipalities[dom.municipality], "domicile"))
        return out

    def kinds_for(self, resident: Resident, municipality: MunicipalityData,
                  relation: str) -> list[KindRule]:
        rules = []
        for rule in municipality.kinds.values():
            if relation == "domicile" and rule.kind not in KOSEKI_KINDS:
                continue
            if relation == "residence" and rule.kind in KOSEKI_KINDS and (
                    resident.domicile is None
                    or resident.domicile.municipality != municipality.code):
                continue
            rules.append(rule)
        return rules

    def unavailable_reason(self, resident: Resident, municipality: MunicipalityData, *,
                           relation: str, rule: KindRule, now: dt.datetime,
                           offline: frozenset[str]) -> str | None:
        if resident.restricted:
            return "restricted"
        if resident.moved_out and relation == "residence":
            return "moved_out"
        if municipality.code in offline:
            return "municipality_offline"
        if relation == "domicile" and not resident.koseki_registered:
            return "not_registered"
        if rule.kind == "seal" and not resident.seal:
            return "kind_not_offered"
        if not self.within_hours(rule, now):
            return "outside_hours"
        return None

    def options_for(self, resident: Resident, rule: KindRule) -> list[dict[str, Any]]:
        if rule.kind in RESIDENCE_KINDS:
            opts = []
            if len(self.household_of(resident)) > 1:
                opts.append({"key": "scope", "choices": ["self", "household", "members"]})
            opts.append({"key": "head_relation", "choices": ["no", "yes"]})
            if resident.foreign:
                opts += [{"key": "nationality", "choices": ["no", "yes"]},
                         {"key": "residence_card", "choices": ["no", "yes"]},
                         {"key": "residence_status", "choices": ["no", "yes"]}]
            else:
                opts.append({"key": "domicile", "choices": ["no", "yes"]})
            opts.append({"key": "my_number", "choices": ["no", "yes"]})
            return opts
        if rule.kind == "tax" and rule.tax_years:
            return [{"key": "tax_year", "choices": [str(y) for y in rule.tax_years]}]
        return []

    def menu(self, resident: Resident, now: dt.datetime, offline: frozenset[str],
             member_ids: dict[str, str]) -> dict[str, Any]:
        """The menu JSON of protocol §4.3. ``member_ids`` maps member id → resident id."""
        municipalities = []
        for municipality, relation in self.offers_for(resident):
            kinds = []
            for rule in self.kinds_for(resident, municipality, relation):
                reason = self.unavailable_reason(resident, municipality, relation=relation,
                                                 rule=rule, now=now, offline=offline)
                kinds.append({
                    "kind": rule.kind, "fee": rule.fee, "max_copies": rule.max_copies,
                    "options": self.options_for(resident, rule),
                    "available": reason is None, "unavailable_reason": reason,
                    "hours": rule.hours_label,
                })
            municipalities.append({"code": municipality.code, "name": municipality.name,
                                   "relation": relation, "kinds": kinds,
                                   **({"kana": municipality.kana} if municipality.kana else {})})
        household = [{"member_id": mid, "display_name": self.residents[rid].name}
                     for mid, rid in member_ids.items()]
        return {"municipalities": municipalities, "household": household}

    def check_request(self, resident: Resident, request: dict[str, Any], now: dt.datetime,
                      offline: frozenset[str], member_ids: dict[str, str]
                      ) -> tuple[MunicipalityData, str, KindRule, dict[str, str], list[Resident]]:
        """Validate an issue request; returns what the renderer needs or raises Refused."""
        pairs = {m.code: (m, rel) for m, rel in self.offers_for(resident)}
        code = request["municipality"]
        if code not in pairs:
            raise Refused("kind_not_offered", 409)
        municipality, relation = pairs[code]
        rule = next((r for r in self.kinds_for(resident, municipality, relation)
                     if r.kind == request["kind"]), None)
        if rule is None:
            raise Refused("kind_not_offered", 409)
        reason = self.unavailable_reason(resident, municipality, relation=relation, rule=rule,
                                         now=now, offline=offline)
        if reason is not None:
            status = {"outside_hours": 409, "kind_not_offered": 409,
                      "municipality_offline": 503}.get(reason, 403)
            raise Refused(reason, status)
        copies = request["copies"]
        if not isinstance(copies, int) or isinstance(copies, bool) \
                or not 1 <= copies <= rule.max_copies:
            raise Refused("bad_request", 400)
        specs = {o["key"]: o["choices"] for o in self.options_for(resident, rule)}
        options = {k: v[0] for k, v in specs.items()}
        for key, value in request.get("options", {}).items():
            if key not in specs or value not in specs[key]:
                raise Refused("bad_request", 400)
            options[key] = value
        members = [resident]
        scope = options.get("scope", "self")
        if rule.kind in RESIDENCE_KINDS and scope == "household":
            members = self.household_of(resident)
        elif rule.kind in RESIDENCE_KINDS and scope == "members":
            wanted = request.get("members", [])
            if not wanted or any(m not in member_ids for m in wanted):
                raise Refused("bad_request", 400)
            members = [r for r in self.household_of(resident)
                       if r.id in {member_ids[m] for m in wanted}]
        return municipality, relation, rule, options, members


def _resident(r: dict[str, Any]) -> Resident:
    dom = r.get("domicile")
    return Resident(
        id=r["id"], name=r["name"], kana=r["kana"], birth=dt.date.fromisoformat(r["birth"]),
        sex=r["sex"], municipality=r["municipality"], address=r["address"],
        household=r["household"], relation=r["relation"],
        became_resident=dt.date.fromisoformat(r["became_resident"]),
        card_serial=int(r["card_serial"], 16), card_status=r.get("card_status", "valid"),
        domicile=Domicile(dom["municipality"], dom["address"], dom["head"]) if dom else None,
        koseki_registered=bool(r.get("koseki_registered", False)),
        nationality=r.get("nationality", ""), residence_card=r.get("residence_card", ""),
        residence_status=r.get("residence_status", ""),
        residence_period=r.get("residence_period", ""),
        my_number=r.get("my_number", ""), seal=r.get("seal", ""),
        tax={k: int(v) for k, v in r.get("tax", {}).items()},
        restricted=bool(r.get("restricted", False)), moved_out=bool(r.get("moved_out", False)),
    )
