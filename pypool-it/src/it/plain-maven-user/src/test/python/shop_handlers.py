"""The Python side of the plain-maven-user project: handlers of its own, on pypool's runtime."""
import pypool


@pypool.command("price.total")
def total(prices, discount_percent=0):
    return round(sum(prices) * (100 - discount_percent) / 100, 2)


@pypool.command("cart.add")
def cart_add(item, *, session):
    items = session.setdefault("items", [])
    items.append(item)
    return {"items": items}


@pypool.command("receipt.lines")
def receipt_lines(items):
    for number, item in enumerate(items, start=1):
        yield f"{number}. {item}"
