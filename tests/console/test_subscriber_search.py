"""Staff search semantics (address prefixes, names anywhere, case, LIKE wildcards,
non-ASCII) and the indexes that serve each search on both databases."""

from sqlalchemy import delete, event, insert, text

from extensions import db
from models import Subscriber, Subscription, SubscriptionStatus
from models.name_search import names_containing
from services.console import subscriber_admin
from services.console.subscriber_admin import SubscriberFilter, _after_prefix
from services.core.audit import CLI
from services.data import imports
from services.privacy import privacy
from services.subscriptions import subscriptions
from tests.console.test_admin_subscribers import add, emails


def found(query: str) -> list[str]:
    return sorted(emails(SubscriberFilter(query=query)))


def test_addresses_match_from_their_start_names_anywhere(app):
    add("ada@example.com", "Countess of Lovelace")
    add("nada@example.com", "Nada Surf")
    assert found("ada") == ["ada@example.com", "nada@example.com"]  # address start, or a name part
    assert found("ada@") == ["ada@example.com"]  # an "@": addresses only, from their start
    assert found("da@example") == []
    assert found("love") == ["ada@example.com"]


def test_search_ignores_case(app):
    add("Mixed.Case@example.com", "Grace HOPPER")
    assert found("mixed.case@EXAMPLE.COM") == ["Mixed.Case@example.com"]
    assert found("MIXED") == ["Mixed.Case@example.com"]
    assert found("hopper") == found("Hopper") == ["Mixed.Case@example.com"]


def test_like_wildcards_and_backslashes_are_plain_characters(app):
    add("100pct@example.com", "100% Pure")
    add("1000@example.com", "1000 Pure")
    add("a_b@example.com", "Under_score")
    add("axb@example.com", "Underxscore")
    add("back@example.com", "Back\\slash")
    assert found("100%") == ["100pct@example.com"]
    assert found("a_b") == ["a_b@example.com"] and found("a_b@") == ["a_b@example.com"]
    assert found("under_") == ["a_b@example.com"]
    assert found("k\\s") == ["back@example.com"]
    assert found("%") == ["100pct@example.com"] and found("_") == ["a_b@example.com"]


def test_non_ascii_addresses_and_names(app):
    add("zoë@example.com", "Zoë Ünal")
    add("zoe@example.com", "Zoe Unal")
    assert found("zoë") == ["zoë@example.com"]
    assert found("zoë@") == ["zoë@example.com"]
    assert found("ÜNAL") == ["zoë@example.com"]  # ASCII letters fold on every database
    assert found("unal") == ["zoe@example.com"]


def test_prefix_upper_bound_in_codepoint_order():
    assert _after_prefix("ab") == "ac"
    assert _after_prefix("a\U0010ffff") == "b"
    assert _after_prefix("a\ud7ff") == "a\ue000"
    assert _after_prefix("\U0010ffff") is None


def test_highest_codepoints_still_match(app):
    add("x\U0010ffff@example.com")
    add("y@example.com")
    assert found("x\U0010ffff@") == ["x\U0010ffff@example.com"]


def plan_of(filters: SubscriberFilter) -> str:
    """The database's plan for the page query of this search."""
    captured = []

    def keep(conn, cursor, statement, parameters, *rest):
        # The page itself: a search may first ask its indexes how many rows they find.
        if not captured and statement.lstrip().upper().startswith("SELECT") and "ORDER BY" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        subscriber_admin.search(db.session, filters)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = captured[0]
    connection = db.session.connection()
    explain = "EXPLAIN QUERY PLAN "
    if connection.dialect.name == "postgresql":
        # At a few thousand rows PostgreSQL rightly prefers reading them all, in or out
        # of page order; bitmap scans only show which indexes can find the matches.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        explain = "EXPLAIN "
    rows = connection.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_each_search_is_served_by_an_index(app, newsletter):
    # Enough rows, with statistics, that a planner prefers an index where one serves.
    db.session.execute(insert(Subscriber), [
        {"email": f"reader{n}@example.com", "full_name": f"Reader {n}"} for n in range(3000)])
    db.session.execute(insert(Subscription).from_select(
        ["subscriber_id", "list_id", "status", "source_url"],
        db.select(Subscriber.id, db.literal(newsletter.id), db.literal(SubscriptionStatus.PENDING.value),
                  db.literal("https://news.example/a-") + db.cast(Subscriber.id % 300, db.String))))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    postgresql = db.engine.dialect.name == "postgresql"

    by_address = plan_of(SubscriberFilter(query="reader1234@"))
    assert ("ix_subscribers_email_pattern" if postgresql else "uq_subscribers_email_lower") in by_address
    by_name = plan_of(SubscriberFilter(query="Reader 1234"))
    if postgresql:
        assert "ix_subscribers_full_name_trgm" in by_name and "ix_subscribers_email_pattern" in by_name
    else:  # a rare term: the trigram index of names and the address index find its candidates
        assert "SCAN subscriber_name_search VIRTUAL TABLE" in by_name and "uq_subscribers_email_lower" in by_name
        assert "SCAN subscribers" not in by_name
        # A term in more names than the indexes should hand over: the newest-first scan of
        # the narrow page-order index finds a page of them sooner than sorting them all.
        common = plan_of(SubscriberFilter(query="Reader"))
        assert "SCAN subscribers USING INDEX ix_subscribers_page_order" in common
        assert "subscriber_name_search" not in common
    by_source = plan_of(SubscriberFilter(status=SubscriptionStatus.PENDING, source="https://news.example/a-42"))
    assert "ix_subscriptions_source_status" in by_source


def test_the_list_page_says_what_a_search_matches(signed_in_client):
    html = signed_in_client.get("/admin/subscribers?q=ada").get_data(as_text=True)
    assert "addresses that start with it and names that contain it" in html
    assert 'aria-describedby="q-hint"' in html


def indexed(query: str) -> list[int]:
    """The ids SQLite's trigram index of names holds for `query` (on PostgreSQL: none)."""
    if db.engine.dialect.name != "sqlite":
        return []
    return list(db.session.scalars(names_containing(query)))


def test_the_name_index_follows_every_change_to_names(app, newsletter, origin, tmp_path):
    ada = add("ada@example.com", "Countess of Lovelace")
    add("grace@example.com")
    assert found("lovelace") == ["ada@example.com"]  # each rare term is found through the index
    ada.full_name = "Ada King"  # renamed
    db.session.commit()
    assert found("king") == ["ada@example.com"] and found("lovelace") == [] and indexed("lovelace") == []
    subscriptions.subscribe("grace@example.com", "Grace Hopper", origin)  # a repeat sign-up fills a missing name
    assert found("hopper") == ["grace@example.com"]
    members = tmp_path / "members.csv"
    members.write_text("email,name\nalan@example.com,Alan Turing\n")
    imports.run_import(imports.create_job(str(members), CLI))
    assert found("turing") == ["alan@example.com"]
    privacy.erase(CLI, [ada.id])
    assert found("king") == [] and indexed("king") == []
    db.session.execute(delete(Subscriber).where(Subscriber.email == "alan@example.com"))
    db.session.commit()
    assert found("turing") == [] and indexed("turing") == []
    if db.engine.dialect.name == "sqlite":  # one indexed name per subscriber, no more
        assert db.session.scalar(text("SELECT count(*) FROM subscriber_name_search_docsize")) == \
            db.session.scalar(text("SELECT count(*) FROM subscribers"))
