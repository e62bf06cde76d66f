print("kinko")
