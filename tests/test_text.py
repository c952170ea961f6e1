from core.text import vi_sort_key


def test_vietnamese_dictionary_order():
    names = ["Đồng Nai", "Hưng Yên", "Hà Tĩnh", "Điện Biên", "Đà Nẵng", "Hải Phòng", "Cà Mau", "Hồ Chí Minh",
             "Hà Nội", "Cần Thơ", "An Giang", "Đắk Lắk", "Ninh Bình"]
    assert sorted(names, key=vi_sort_key) == [
        "An Giang", "Cà Mau", "Cần Thơ", "Đà Nẵng", "Đắk Lắk", "Điện Biên", "Đồng Nai",
        "Hà Nội", "Hà Tĩnh", "Hải Phòng", "Hồ Chí Minh", "Hưng Yên", "Ninh Bình",
    ]


def test_tones_only_break_ties():
    assert sorted(["Mạ", "Mà", "Ma", "Má", "Mả", "Mã"], key=vi_sort_key) == ["Ma", "Mà", "Mả", "Mã", "Má", "Mạ"]
    assert sorted(["Ông", "Ong", "Ơn"], key=vi_sort_key) == ["Ong", "Ông", "Ơn"]
