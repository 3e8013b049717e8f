"""Re-vendor a botocore service model: python3 specs/refresh.py <botocore wheel> sqs 2012-11-05"""
import gzip, json, sys, zipfile

wheel, service, version = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    model = json.loads(gzip.decompress(z.read(f"botocore/data/{service}/{version}/service-2.json.gz")))

def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o

with open(f"specs/{service}/{version}/service-2.json", "w") as f:
    json.dump(strip(model), f, indent=1)
