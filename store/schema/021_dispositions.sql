-- How an incident ended (反馈): closing needs a disposition from this list
-- and a result in words; both also ride in the 'closed' event, so replay and
-- the PDF report show them. The list is data: a station adds its own rows.
CREATE TABLE dispositions (
    id       text PRIMARY KEY CHECK (id ~ '^[a-z][a-z_]{0,39}$'),
    name_en  text NOT NULL,
    name_zh  text NOT NULL,
    sort     integer NOT NULL DEFAULT 0
);

INSERT INTO dispositions (id, name_en, name_zh, sort) VALUES
    ('report_taken', 'report taken', '已受理立案', 10),
    ('arrest', 'arrest', '抓获', 20),
    ('advice_given', 'advice given', '劝解处理', 30),
    ('no_trace', 'no trace', '未发现', 40),
    ('false_alarm', 'false alarm', '虚假警情', 50),
    ('referred', 'referred to another agency', '移交其他部门', 60),
    ('duplicate', 'duplicate call', '重复报警', 70);

ALTER TABLE incidents
    ADD COLUMN disposition text REFERENCES dispositions (id),
    ADD COLUMN result text CHECK (length(result) <= 2000);
