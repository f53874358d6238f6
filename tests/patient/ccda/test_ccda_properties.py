"""Property: any value, unit, date, code or text in a C-CDA gives a record or a located error."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import MyelonavError
from myelonav.patient.ccda import import_ccda
from myelonav.patient.profile_io import dump_profile, parse_profile_text

AS_OF = dt.date(2026, 11, 25)

_fields = st.text(max_size=40) | st.sampled_from(
    ["", "0", "1e400", "-5", "7.2", "20240301", "202403", "2024", "99999999", "10*9/L", "%"]
)


def _document(value: str, unit: str, when: str, code: str, text: str) -> bytes:
    return f"""<ClinicalDocument xmlns="urn:hl7-org:v3"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <recordTarget><patientRole><patient><birthTime value="19600101"/></patient></patientRole>
      </recordTarget><component><structuredBody>
      <component><section><code code="11450-4" codeSystem="2.16.840.1.113883.6.1"/>
        <entry><observation classCode="OBS" moodCode="EVN">
        <effectiveTime><low value={quoteattr(when)}/></effectiveTime>
        <value xsi:type="CD" code="109989006" codeSystem="2.16.840.1.113883.6.96">
          <originalText>{escape(text)}</originalText></value></observation></entry>
      </section></component>
      <component><section><code code="30954-2" codeSystem="2.16.840.1.113883.6.1"/>
        <entry><observation classCode="OBS" moodCode="EVN">
        <code code={quoteattr(code)} codeSystem="2.16.840.1.113883.6.1"/>
        <effectiveTime value={quoteattr(when)}/>
        <value xsi:type="PQ" value={quoteattr(value)} unit={quoteattr(unit)}/>
        </observation></entry>
      </section></component>
      </structuredBody></component></ClinicalDocument>""".encode("utf-8", "surrogatepass")


@settings(max_examples=150, deadline=None)
@given(_fields, _fields, _fields, _fields | st.sampled_from(["718-7", "36916-5"]), _fields)
def test_any_field_gives_a_record_or_a_located_error(
    value: str, unit: str, when: str, code: str, text: str
) -> None:
    try:
        report = import_ccda(_document(value, unit, when, code, text), source="p.xml", as_of=AS_OF)
    except MyelonavError as exc:
        assert exc.location and exc.location.startswith("p.xml")
        return
    again = parse_profile_text(dump_profile(report.record), "again")
    assert again.model_dump() == report.record.model_dump()
