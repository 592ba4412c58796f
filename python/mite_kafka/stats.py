"""Stats for kafka journeys: counts of `kafka_producer_stats` and `kafka_consumer_stats` messages."""

from mite.stats import Counter, extractor, matcher_by_type

# Registered under the `mite_stats` entry-point group as `mite_kafka`.
_KAFKA_STATS = [
    Counter(
        "mite_kafka_producer_stats_counter",
        matcher_by_type("kafka_producer_stats"),
        extractor(["topic", "key"]),
    ),
    Counter(
        "mite_kafka_consumer_stats_counter",
        matcher_by_type("kafka_consumer_stats"),
        extractor(["topic", "partition"]),
    ),
]
