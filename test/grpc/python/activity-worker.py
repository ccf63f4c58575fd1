"""A Python activity worker for duraflow's sidecar, on stubs generated from our own .proto (no durabletask SDK).

Usage: python3 activity-worker.py <stubs-dir> <host:port>
Opens GetWorkItems asking only for the activities below, runs each ActivityRequest with the Python function of
that name and answers with CompleteActivityTask: the JSON result, or the exception's type, message and traceback.
Prints one JSON line per answered activity; exits when its stdin closes.
"""
import json
import sys
import threading
import traceback

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from google.protobuf import empty_pb2, wrappers_pb2  # noqa: E402
import task_hub_sidecar_pb2 as pb  # noqa: E402
import task_hub_sidecar_pb2_grpc as pb_grpc  # noqa: E402


def py_title(text):
    return text.title()


def py_parse_port(text):
    port = int(text)  # int('eighty') raises ValueError
    if not 0 < port < 65536:
        raise OverflowError(f'port {port} is out of range')
    return port


ACTIVITIES = {'pyTitle': py_title, 'pyParsePort': py_parse_port}


def answer(request, token):
    """The ActivityResponse for one request: the function's result or its failure."""
    response = pb.ActivityResponse(instanceId=request.orchestrationInstance.instanceId, taskId=request.taskId, completionToken=token)
    try:
        arg = json.loads(request.input.value) if request.HasField('input') else None
        response.result.CopyFrom(wrappers_pb2.StringValue(value=json.dumps(ACTIVITIES[request.name](arg))))
    except Exception as error:  # any failure goes back to the orchestration
        response.failureDetails.CopyFrom(pb.TaskFailureDetails(
            errorType=type(error).__name__,
            errorMessage=str(error),
            stackTrace=wrappers_pb2.StringValue(value=traceback.format_exc()),
        ))
    return response


channel = grpc.insecure_channel(sys.argv[2])
stub = pb_grpc.TaskHubSidecarServiceStub(channel)
stub.Hello(empty_pb2.Empty(), timeout=10)
stream = stub.GetWorkItems(pb.GetWorkItemsRequest(
    maxConcurrentActivityWorkItems=4,
    workItemFilters=pb.WorkItemFilters(activities=[pb.ActivityFilter(name=name) for name in ACTIVITIES]),
))


def serve():
    try:
        for item in stream:
            if not item.HasField('activityRequest'):
                continue  # health pings
            request = item.activityRequest
            response = answer(request, item.completionToken)
            stub.CompleteActivityTask(response, timeout=10)
            outcome = response.failureDetails.errorType if response.HasField('failureDetails') else 'completed'
            print(json.dumps({'name': request.name, 'taskId': request.taskId, 'outcome': outcome}), flush=True)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            print(json.dumps({'streamError': str(error.code())}), flush=True)


server = threading.Thread(target=serve)
server.start()
sys.stdin.read()  # the test closes stdin when it is done
stream.cancel()
server.join()  # finishes the answer in hand (and its line) first
