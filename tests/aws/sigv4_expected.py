#!/usr/bin/env python3
"""Expected SigV4 signatures for tests/aws/sigv4_test.cc, from an independent implementation.

botocore's signers (SigV4Auth, and S3SigV4Auth for S3) with the clock pinned. Not run by CI:
run it by hand (python3 tests/aws/sigv4_expected.py; botocore 1.43.11 when the values in the test
were made) when a case is added, and paste what it prints. AWS's own published examples are in
the test with the values from AWS's pages, not from here; this script reproduces them first, so a
wrong set-up here shows at once.
"""
import datetime
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(method, url, params=None, headers=None, body=b"", service="s3", region="us-east-1",
         key="AKIAIOSFODNN7EXAMPLE", secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         token=None, when=datetime.datetime(2013, 5, 24, 0, 0, 0)):
    botocore.auth.get_current_datetime = lambda: when
    request = AWSRequest(method=method, url=url, params=params or [], headers=headers or {},
                         data=body)
    auth_class = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    auth_class(Credentials(key, secret, token), service, region).add_auth(request)
    return request.headers["Authorization"]


def show(name, authorization):
    print(f"{name}:\n  {authorization}")


HOST = "https://examplebucket.s3.amazonaws.com"
# AWS's S3 examples, which must come out as published.
show("s3 get object (published f0e8bdb8...)",
     sign("GET", HOST + "/test.txt", headers={"Range": "bytes=0-9"}))
show("s3 get lifecycle (published fea454ca...)", sign("GET", HOST + "/", params=[("lifecycle", "")]))
show("s3 list objects (published 34b48302...)",
     sign("GET", HOST + "/", params=[("max-keys", "2"), ("prefix", "J")]))
# AWS's IAM ListUsers example (published 5d672d79...).
show("iam list users", sign(
    "GET", "https://iam.amazonaws.com/", params=[("Action", "ListUsers"), ("Version", "2010-05-08")],
    headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="iam",
    key="AKIDEXAMPLE", secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    when=datetime.datetime(2015, 8, 30, 12, 36, 0)))

# lote's own cases.
show("s3 get with a session token", sign(
    "GET", HOST + "/test.txt", token="IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+/=="))
key = "photos/été 2013/a+b (1)~x_y-z.jpg"
show("s3 put of a key with spaces and UTF-8 on a port", sign(
    "PUT", "http://127.0.0.1:9000/bucket/" + quote(key, safe="/~"), body=b"hello",
    headers={"Content-Type": "image/jpeg"}))
show("s3 list with '/', '=' and spaces in values, repeated names", sign(
    "GET", HOST + "/", params=[("list-type", "2"), ("prefix", "a/b c"), ("delimiter", "/"),
                               ("start-after", "x=y"), ("tag", "b"), ("tag", "a"), ("tag", "")]))
show("execute-api get, path encoded twice", sign(
    "GET", "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/a%20b/c%2Fd/./e/../f",
    service="execute-api", region="eu-west-1"))
show("sqs post, form body", sign(
    "POST", "https://sqs.us-east-1.amazonaws.com/",
    headers={"Content-Type": "application/x-www-form-urlencoded"},
    body=b"Action=ListQueues&Version=2012-11-05", service="sqs"))
