-- A right password ends the account's count (not the address's: one account
-- known to an attacker must not reset the counter of the address guessing others).
DELETE FROM login_throttle WHERE key = %(key)s
