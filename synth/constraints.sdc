# Block constraints. The flow sets clock_period (ns), io_delay (ns) and
# port_load (fF) before sourcing this file.
create_clock -name clk -period $clock_period [get_ports clk]
set non_clk_inputs [delete_from_list [all_inputs] [get_ports clk]]
set_input_delay $io_delay -clock clk $non_clk_inputs
set_output_delay $io_delay -clock clk [all_outputs]
set_driving_cell -lib_cell BUF_X2 -pin Z $non_clk_inputs
set_load $port_load [all_outputs]
set_wire_load_model -name 5K_hvratio_1_1
