"""Random but valid domain data for tests and the demo."""

from __future__ import annotations

import random
from datetime import date

from shared.validation import make_resident_id

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def member_body(rng: random.Random | None = None, place: str = "371326") -> dict[str, str]:
    rng = rng or random.Random()
    birth = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
    sequence = rng.randint(0, 999)
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        "resident_id": make_resident_id(place, birth, sequence),
        # The 17th character of the number is odd for men (GB 11643): the record must agree.
        "sex": "male" if sequence % 2 else "female",
        "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
        "origin_branch": f"平邑镇第{rng.randint(1, 30)}村党支部",
        "household_address": f"山东省临沂市平邑县平邑镇{rng.randint(1, 300)}号",
    }


def departure_body(
    host_place: str,
    rng: random.Random | None = None,
    departed_on: date | None = None,
    expected_months: int = 4,
) -> dict[str, object]:
    rng = rng or random.Random()
    return {
        "host_place": host_place,
        "employer": rng.choice(["上海建工集团", "浦东物流有限公司", "闵行电子厂", "张江软件园"]),
        "host_address": f"上海市某路{rng.randint(1, 999)}号",
        "reason": "务工",
        "expected_months": expected_months,
        "departed_on": (departed_on or date(2026, 3, 1)).isoformat(),
    }
