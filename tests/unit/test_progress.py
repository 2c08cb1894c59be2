from lib.progress import measure, sentence


def test_eta_sentence_after_three_of_ten_chunks():
    progress = measure(
        done=1500, total=5000, elapsed=90, chunks_done=3, chunks_total=10
    )
    assert progress.fraction == 0.3
    assert progress.remaining_seconds == 210.0
    assert sentence(progress, "rows") == (
        "1,500 of 5,000 rows · 3 of 10 chunks · about 4 min left"
    )


def test_resumed_work_is_paced_on_the_current_run_only():
    # 4,000 rows were sent before a resumption; 500 more in 50 s now
    progress = measure(done=4500, total=5000, elapsed=50, done_before=4000)
    assert progress.remaining_seconds == 50.0


def test_no_estimate_before_the_first_item_of_the_run():
    progress = measure(done=0, total=12, elapsed=30, chunks_total=1)
    assert progress.remaining_seconds is None
    assert sentence(progress, "messages").endswith("estimating the time left")


def test_unknown_total_reports_what_was_done_and_the_time_spent():
    progress = measure(done=1, elapsed=3725, chunks_done=1)
    assert progress.fraction is None
    assert progress.percent == 0.0
    assert sentence(progress, "documents") == (
        "1 document · 1 page so far · 1 h 2 min elapsed"
    )


def test_finished_work_states_the_time_it_took():
    progress = measure(done=12, total=12, elapsed=4, chunks_done=1, chunks_total=1)
    assert progress.finished
    assert progress.remaining_seconds == 0.0
    assert sentence(progress, "messages") == (
        "12 of 12 messages · 1 of 1 chunk · done in 4 s"
    )
