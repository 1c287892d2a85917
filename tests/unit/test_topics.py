from feeds.topics import Route, Topics


def test_routes_each_format_and_keys_owntracks_by_topic():
    t = Topics("dm", "owntracks")
    assert t.route("dm/gps/trk-1") == Route("native", "trk-1")
    assert t.route("dm/nmea/trk-2") == Route("nmea", "trk-2")
    assert t.route("dm/lip/2620101") == Route("lip", "2620101")
    assert t.route("dm/status/2620101") == Route("status", "2620101")
    assert t.route("dm/jt808/013912345678") == Route("jt808", "jt808-013912345678")
    assert t.jt808("013912345678") == "dm/jt808/013912345678"
    assert t.route("owntracks/anna/phone") == Route("owntracks", "owntracks/anna/phone")


def test_foreign_or_malformed_topics_are_not_routed():
    t = Topics("dm", "owntracks")
    for topic in ["dm/gps", "dm/gps/", "dm/other/x", "xx/gps/1", "dm/gps/a/b", "owntracks/u", ""]:
        assert t.route(topic) is None, topic


def test_subscriptions_plain_and_shared():
    t = Topics("st1", "ot")
    assert t.subscriptions() == [
        "st1/gps/+",
        "st1/nmea/+",
        "st1/lip/+",
        "st1/status/+",
        "st1/jt808/+",
        "ot/+/+",
    ]
    assert t.subscriptions("ingest")[0] == "$share/ingest/st1/gps/+"


def test_publish_topics_round_trip_through_route():
    t = Topics("dm", "owntracks")
    assert t.route(t.gps("a")) == Route("native", "a")
    assert t.route(t.owntracks("owntracks/u/d")) == Route("owntracks", "owntracks/u/d")
