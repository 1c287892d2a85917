INSERT INTO units (id, call_sign, kind, home_beat, talkgroup, phone, radio_issi)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    call_sign = excluded.call_sign, kind = excluded.kind, home_beat = excluded.home_beat,
    talkgroup = excluded.talkgroup, phone = excluded.phone, radio_issi = excluded.radio_issi
