DELETE FROM beats
WHERE id <> ALL(%(keep_ids)s)
  AND id NOT IN (SELECT home_beat FROM units WHERE home_beat IS NOT NULL)
