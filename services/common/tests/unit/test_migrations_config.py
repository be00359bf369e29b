from services.common.migrations import alembic_config


def test_a_url_with_escaped_characters_reaches_alembic_unchanged():
    url = "postgresql+psycopg2://clerk:p%40ss@/tongban_identity?host=%2Fvar%2Frun%2Fpostgresql"

    config = alembic_config("identity", url)

    assert config.get_main_option("sqlalchemy.url") == url
