SELECT id, name_en, name_zh FROM dispositions ORDER BY sort, id
