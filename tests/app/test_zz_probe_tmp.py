import json
from tests.app.test_search_api import processed  # noqa
def test_probe(processed):
    for q in ["too expensive", "we are happy with Gong", "contract length", "how much"]:
        r = processed.client.get("/v1/search", params={"q": q, "limit": 8}, headers=processed.headers).json()
        print("\n##", q)
        for h in r["items"]:
            print(h["similarity"], h["kind"], h["outcome"], h["text"][:90], h["cluster_label"])
