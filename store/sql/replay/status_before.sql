SELECT DISTINCT ON (unit_id) at, unit_id, kind, data FROM events
WHERE unit_id IS NOT NULL AND at < %(t1)s AND at >= %(since)s
  AND kind <> 'transition_refused' AND (data ? 'to' OR data ? 'status')
ORDER BY unit_id, at DESC, id DESC
