from simdebrief import create_app

app = create_app()
