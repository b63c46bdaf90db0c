"""Event types by name, and the upcasters that lift an old payload to the current schema."""

from collections.abc import Callable, Iterable
from typing import Any

from events.base import DomainEvent

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UnknownEventType(LookupError):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class MissingUpcaster(LookupError):
    def __init__(self, event_type: str, version: int) -> None:
        super().__init__(f"no upcaster for {event_type} from schema version {version}")


class EventRegistry:
    """Maps ``event_type`` to its model; ``load`` upcasts step by step, then validates."""

    def __init__(self, models: Iterable[type[DomainEvent]] = ()) -> None:
        self._models: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for model in models:
            self.register(model)

    def register(self, model: type[DomainEvent]) -> None:
        self._models[model.event_type()] = model

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``fn(payload at from_version) -> payload at from_version + 1``."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def model(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def load(self, event_type: str, schema_version: int, payload: Payload) -> DomainEvent:
        model = self.model(event_type)
        version = schema_version
        while version < model.schema_version:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise MissingUpcaster(event_type, version)
            payload = step(payload)
            version += 1
        # ``model_validate`` without its keyword handling (it only forwards the payload here)
        event: DomainEvent = model.__pydantic_validator__.validate_python(payload)
        return event

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._models
