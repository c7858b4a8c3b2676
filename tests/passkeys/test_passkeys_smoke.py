def test_enrol_then_sign_in(client, employee, enrolled, sign_in):
    response = sign_in(enrolled)
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada@example.com"
    me = client.get("/api/me")
    assert me.status_code == 200
