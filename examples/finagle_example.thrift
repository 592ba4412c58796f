// The service examples/finagle_example.py calls. Generate its Python code with:
//   thrift --gen py -out . finagle_example.thrift     (Debian: apt-get install thrift-compiler)
namespace py greeter_service

struct GreetRequest {
    1: required string name;
}

struct GreetResponse {
    1: required string greeting;
}

exception GreetError {
    1: string why;
}

service Greeter {
    GreetResponse greet(1: GreetRequest request);
    GreetResponse refuse(1: GreetRequest request) throws (1: GreetError error);
    string echo(1: string text);
}
