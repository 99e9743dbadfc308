"""The Python side of the spring-boot-app project: handlers of its own, on pypool's runtime."""
import pypool


@pypool.command("price.total")
def total(prices, discount_percent=0):
    return round(sum(prices) * (100 - discount_percent) / 100, 2)


@pypool.command("price.quote")
def quote(sku, qty=1):
    # The unit price comes from the application: the Java function its customizer registered.
    unit = pypool.call_java("catalog.price", {"sku": sku})
    return {"sku": sku, "qty": qty, "total": round(unit * qty, 2)}
