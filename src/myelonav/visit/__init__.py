"""The visit: questions for the oncologist, a records checklist for a second opinion, the lab
timeline plot and the second-opinion packet (HTML and PDF), and ways to find a centre.

* ``questions.build_questions(record, as_of, report=, trials=, diary=)``
* ``checklist.build_checklist(record, as_of)``
* ``labs.lab_checks(picture)`` — current labs against common thresholds
* ``plot.render_plot(record, as_of, "png" | "svg")``, ``plot.save_plot``, ``plot.describe``
* ``packet.PacketInputs``, ``packet.render_html``, ``packet.write_packet``
* ``trials.match_trials(record, studies, as_of=)`` — rows for the packet and the questions
* ``content.centre_content()`` — sourced ways to find a myeloma specialist

Curated wording and thresholds live in ``visit/data/*.yaml`` (validated by ``schemas``).
Nothing here sends data anywhere.
"""
